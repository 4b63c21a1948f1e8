// core/v1 Event: what `kubectl get events` and `kubectl describe` show. Field selectors over
// the involved object, the legacy validation (the event lives in its object's namespace), and
// the LAST SEEN/TYPE/REASON/OBJECT/MESSAGE table.

import { type FieldError, Path, invalidValue, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isDNS1123Subdomain, isQualifiedName, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import type { ObjectReference } from './types.js';
import { isPathSegmentName } from './validation.js';

export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;

export interface EventSource {
  component?: string;
  host?: string;
}

export interface EventSeries {
  count?: number;
  lastObservedTime?: string;
}

/** CoreEvent is core/v1 Event. */
export interface CoreEvent extends KubeObject {
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  source?: EventSource;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  count?: number;
  type?: string;
  eventTime?: string | null;
  series?: EventSeries;
  action?: string;
  related?: ObjectReference;
  reportingComponent?: string;
  reportingInstance?: string;
}

/**
 * defaultEvent fills what Go always serializes for an Event: empty involvedObject and source,
 * null timestamps, and empty reporting fields.
 */
function defaultEvent(ev: CoreEvent): void {
  ev.involvedObject ??= {};
  ev.source ??= {};
  if (ev.firstTimestamp === undefined) ev.firstTimestamp = null;
  if (ev.lastTimestamp === undefined) ev.lastTimestamp = null;
  if (ev.eventTime === undefined) ev.eventTime = null;
  ev.reportingComponent ??= '';
  ev.reportingInstance ??= '';
}

const limits = { reportingInstance: 128, action: 128, reason: 128, message: 1024 };

/** validateEvent is the legacy event validation core/v1 applies on create and update. */
export function validateEvent(ev: CoreEvent): FieldError[] {
  const errs = validateObjectMeta(ev.metadata, true, isPathSegmentName);
  const ns = ev.metadata?.namespace ?? '';
  const involvedNs = ev.involvedObject?.namespace ?? '';
  const nsPath = new Path('involvedObject').child('namespace');
  if (!ev.eventTime) {
    if (!involvedNs) {
      // Events about cluster-scoped objects go to "default" (or nowhere, for old clients).
      if (ns !== '' && ns !== 'default') errs.push(invalidValue(nsPath, involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) {
      errs.push(invalidValue(nsPath, involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalidValue(nsPath, involvedNs, 'does not match event.namespace'));
    if (!ev.reportingComponent) errs.push(required('reportingController'));
    for (const m of isQualifiedName(ev.reportingComponent ?? '')) errs.push(invalidValue('reportingController', ev.reportingComponent ?? '', m));
    if (!ev.reportingInstance) errs.push(required('reportingInstance'));
    if ((ev.reportingInstance ?? '').length > limits.reportingInstance) errs.push(invalidValue('reportingInstance', '', `can have at most ${limits.reportingInstance} characters`));
    if (!ev.action) errs.push(required('action'));
    if ((ev.action ?? '').length > limits.action) errs.push(invalidValue('action', '', `can have at most ${limits.action} characters`));
    if (!ev.reason) errs.push(required('reason'));
    if ((ev.reason ?? '').length > limits.reason) errs.push(invalidValue('reason', '', `can have at most ${limits.reason} characters`));
    if ((ev.message ?? '').length > limits.message) errs.push(invalidValue('message', '', `can have at most ${limits.message} characters`));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalidValue('namespace', ns, m));
  return errs;
}

function firstSeen(ev: CoreEvent, now: Date): string {
  return ev.firstTimestamp ? age(ev.firstTimestamp, now) : age(ev.eventTime ?? undefined, now);
}

/** eventLastSeen is the LAST SEEN cell: the series' last observation, else lastTimestamp, else first seen. */
export function eventLastSeen(ev: CoreEvent, now: Date): string {
  if (ev.series) return age(ev.series.lastObservedTime, now);
  return ev.lastTimestamp ? age(ev.lastTimestamp, now) : firstSeen(ev, now);
}

/** eventCount is the COUNT cell: the series count, else count, and 1 for a singleton without one. */
export function eventCount(ev: CoreEvent): number {
  if (ev.series) return ev.series.count ?? 0;
  return ev.count || 1;
}

/** eventObject is the OBJECT cell: `kind/name` with the kind in lower case. */
export function eventObject(ev: CoreEvent): string {
  const kind = (ev.involvedObject?.kind ?? '').toLowerCase();
  return ev.involvedObject?.name ? `${kind}/${ev.involvedObject.name}` : kind;
}

/** eventSource is the SOURCE cell: component (or reporting controller), then ", host" (or reporting instance). */
export function eventSource(ev: CoreEvent): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

// Kubernetes orders event columns for reading, not by name: the name comes last, and only wide.
const eventColumns: PrinterColumn<CoreEvent>[] = [
  { name: 'Last Seen', type: 'string', cell: (e, now) => eventLastSeen(e, now) },
  { name: 'Type', type: 'string', cell: (e) => e.type ?? '' },
  { name: 'Reason', type: 'string', cell: (e) => e.reason ?? '' },
  { name: 'Object', type: 'string', cell: (e) => eventObject(e) },
  { name: 'Subobject', type: 'string', priority: 1, cell: (e) => e.involvedObject?.fieldPath ?? '' },
  { name: 'Source', type: 'string', priority: 1, cell: (e) => eventSource(e) },
  { name: 'Message', type: 'string', cell: (e) => (e.message ?? '').trim() },
  { name: 'First Seen', type: 'string', priority: 1, cell: (e, now) => firstSeen(e, now) },
  { name: 'Count', type: 'string', priority: 1, cell: (e) => eventCount(e) },
  { name: 'Name', type: 'string', format: 'name', priority: 1, cell: (e) => e.metadata.name },
];

export const coreEvents = defineResource<CoreEvent>({
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  printerColumns: eventColumns,
  fieldSelectors: {
    'involvedObject.kind': (e) => e.involvedObject?.kind ?? '',
    'involvedObject.namespace': (e) => e.involvedObject?.namespace ?? '',
    'involvedObject.name': (e) => e.involvedObject?.name ?? '',
    'involvedObject.uid': (e) => e.involvedObject?.uid ?? '',
    'involvedObject.apiVersion': (e) => e.involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (e) => e.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (e) => e.involvedObject?.fieldPath ?? '',
    reason: (e) => e.reason ?? '',
    reportingComponent: (e) => e.reportingComponent ?? '',
    source: (e) => e.source?.component ?? '',
    type: (e) => e.type ?? '',
  },
  defaults: defaultEvent,
  validate: validateEvent,
  validateUpdate: (e) => validateEvent(e),
  allowCreateOnUpdate: true,
});
