// events.k8s.io/v1 Event. Kubernetes stores it as the core Event (same `events` resource, same
// etcd keys) and converts between the two shapes; validation (pkg/apis/core/validation/events.go)
// and the table (printEvent) work on the core form, so their field paths and cells use core names
// (`involvedObject`, `message`, `firstTimestamp`, …) even for events.k8s.io requests. Here the
// declaration works on the events.k8s.io/v1 shape and maps those names itself; eventFromCore /
// eventToCore convert when both APIs share one store.

import { type FieldError, Path, invalidValue, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isDNS1123Subdomain, isQualifiedName, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { semanticEqual } from '../apps/equality.js';
import type { ObjectReference } from '../discovery/endpointslice.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';

export type { ObjectReference };

export interface EventSeries {
  count: number;
  /** lastObservedTime is a metav1.MicroTime. */
  lastObservedTime: string;
}

export interface EventSource {
  component?: string;
  host?: string;
}

/** Event is events.k8s.io/v1 Event. */
export interface Event extends KubeObject {
  /** eventTime is a metav1.MicroTime, required for events.k8s.io writes (null when unset). */
  eventTime: string | null;
  series?: EventSeries;
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  reason?: string;
  regarding?: ObjectReference;
  related?: ObjectReference;
  note?: string;
  type?: string;
  deprecatedSource?: EventSource;
  deprecatedFirstTimestamp?: string | null;
  deprecatedLastTimestamp?: string | null;
  deprecatedCount?: number;
}

/** CoreEvent is the core/v1 Event shape the same stored object has. */
export interface CoreEvent extends KubeObject {
  involvedObject?: ObjectReference;
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

export const EventTypeNormal = 'Normal';
export const EventTypeWarning = 'Warning';

const reportingInstanceLengthLimit = 128;
const actionLengthLimit = 128;
const reasonLengthLimit = 128;
const noteLengthLimit = 1024;

const isZeroTime = (t: string | null | undefined) => t === undefined || t === null || t === '';
/** byteLength is Go's len(string): the UTF-8 byte count. */
const byteLength = (s: string | undefined) => Buffer.byteLength(s ?? '', 'utf8');

/**
 * defaultEvent gives absent fields the form kube-apiserver sends back: Go encodes the struct
 * fields regarding and deprecatedSource as {} and the zero times as null even when omitempty.
 */
export function defaultEvent(e: Event): void {
  if (e.eventTime === undefined) e.eventTime = null;
  e.regarding ??= {};
  e.deprecatedSource ??= {};
  if (e.deprecatedFirstTimestamp === undefined) e.deprecatedFirstTimestamp = null;
  if (e.deprecatedLastTimestamp === undefined) e.deprecatedLastTimestamp = null;
}

/**
 * legacyValidateEvent is the check every Event write passes, whatever its API: namespaces must
 * agree, and an event with an eventTime needs its reporting fields, action and reason.
 */
function legacyValidateEvent(e: Event): FieldError[] {
  const errs: FieldError[] = [];
  const ns = e.metadata.namespace ?? '';
  const involvedNs = e.regarding?.namespace ?? '';
  const nsPath = new Path('involvedObject').child('namespace');
  if (isZeroTime(e.eventTime)) {
    if (involvedNs === '') {
      // Old clients put cluster-scoped objects' events in "default".
      if (ns !== '' && ns !== 'default') errs.push(invalidValue(nsPath, involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) {
      errs.push(invalidValue(nsPath, involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system') {
      errs.push(invalidValue(nsPath, involvedNs, 'does not match event.namespace'));
    }
    const controller = e.reportingController ?? '';
    if (controller === '') errs.push(required('reportingController', ''));
    for (const m of isQualifiedName(controller)) errs.push(invalidValue('reportingController', controller, m));
    if (!e.reportingInstance) errs.push(required('reportingInstance', ''));
    if (byteLength(e.reportingInstance) > reportingInstanceLengthLimit) {
      errs.push(invalidValue('reportingInstance', '', `can have at most ${reportingInstanceLengthLimit} characters`));
    }
    if (!e.action) errs.push(required('action', ''));
    if (byteLength(e.action) > actionLengthLimit) errs.push(invalidValue('action', '', `can have at most ${actionLengthLimit} characters`));
    if (!e.reason) errs.push(required('reason', ''));
    if (byteLength(e.reason) > reasonLengthLimit) errs.push(invalidValue('reason', '', `can have at most ${reasonLengthLimit} characters`));
    if (byteLength(e.note) > noteLengthLimit) errs.push(invalidValue('message', '', `can have at most ${noteLengthLimit} characters`));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalidValue('namespace', ns, m));
  return errs;
}

function validateSeries(e: Event): FieldError[] {
  if (!e.series) return [];
  const errs: FieldError[] = [];
  if ((e.series.count ?? 0) < 2) errs.push(invalidValue('series.count', '', 'should be at least 2'));
  if (isZeroTime(e.series.lastObservedTime)) errs.push(required('series.lastObservedTime', ''));
  return errs;
}

/**
 * validateEvent is ValidateEventCreate for events.k8s.io/v1: the legacy checks, then the strict
 * ones — eventTime required, type Normal or Warning, the deprecated core fields unset.
 */
export function validateEvent(e: Event): FieldError[] {
  const errs = legacyValidateEvent(e);
  errs.push(...validateObjectMeta(e.metadata, true, nameIsDNSSubdomain));
  errs.push(...validateSeries(e));
  if (isZeroTime(e.eventTime)) errs.push(required('eventTime', ''));
  if (e.type !== EventTypeNormal && e.type !== EventTypeWarning) errs.push(invalidValue('type', '', `has invalid value: ${e.type ?? ''}`));
  if (!isZeroTime(e.deprecatedFirstTimestamp)) errs.push(invalidValue('firstTimestamp', '', 'needs to be unset'));
  if (!isZeroTime(e.deprecatedLastTimestamp)) errs.push(invalidValue('lastTimestamp', '', 'needs to be unset'));
  if ((e.deprecatedCount ?? 0) !== 0) errs.push(invalidValue('count', '', 'needs to be unset'));
  if (e.deprecatedSource?.component || e.deprecatedSource?.host) errs.push(invalidValue('source', '', 'needs to be unset'));
  return errs;
}

/**
 * validateEventUpdate is what ValidateEventUpdate adds for events.k8s.io/v1: everything but the
 * series (and metadata) is immutable. Paths use the core names, as Kubernetes reports them.
 */
export function validateEventUpdate(e: Event, old: Event): FieldError[] {
  const errs: FieldError[] = [];
  const immutable = (path: string, a: unknown, b: unknown) => {
    if (!semanticEqual(a, b)) errs.push(invalidValue(path, a ?? '', 'field is immutable'));
  };
  immutable('involvedObject', e.regarding, old.regarding);
  immutable('reason', e.reason, old.reason);
  immutable('message', e.note, old.note);
  immutable('source', e.deprecatedSource, old.deprecatedSource);
  immutable('firstTimestamp', e.deprecatedFirstTimestamp, old.deprecatedFirstTimestamp);
  immutable('lastTimestamp', e.deprecatedLastTimestamp, old.deprecatedLastTimestamp);
  immutable('count', e.deprecatedCount ?? 0, old.deprecatedCount ?? 0);
  immutable('type', e.type, old.type);
  immutable('eventTime', e.eventTime, old.eventTime);
  immutable('action', e.action, old.action);
  immutable('related', e.related, old.related);
  immutable('reportingController', e.reportingController, old.reportingController);
  immutable('reportingInstance', e.reportingInstance, old.reportingInstance);
  return errs;
}

// ---- table (printEvent on the core form) ----

function firstSeen(e: Event, now: Date): string {
  return isZeroTime(e.deprecatedFirstTimestamp) ? age(e.eventTime ?? undefined, now) : age(e.deprecatedFirstTimestamp!, now);
}

function lastSeen(e: Event, now: Date): string {
  if (e.series) return age(e.series.lastObservedTime, now);
  return isZeroTime(e.deprecatedLastTimestamp) ? firstSeen(e, now) : age(e.deprecatedLastTimestamp!, now);
}

/** eventCount is the COUNT cell: the series count, else the deprecated count, else 1 (a singleton). */
function eventCount(e: Event): number {
  if (e.series) return e.series.count ?? 0;
  return e.deprecatedCount || 1;
}

/** eventObject is the OBJECT cell: `kind/name` in lower-case kind, or the kind alone. */
function eventObject(e: Event): string {
  const kind = (e.regarding?.kind ?? '').toLowerCase();
  return e.regarding?.name ? `${kind}/${e.regarding.name}` : kind;
}

/** eventSource is formatEventSource: component (or reportingController), then ", host" (or instance) when set. */
function eventSource(e: Event): string {
  const component = e.deprecatedSource?.component || e.reportingController || '';
  const instance = e.deprecatedSource?.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

// Events are the one table whose first column is not the name (it comes last, in -o wide).
const eventColumns: PrinterColumn<Event>[] = [
  { name: 'Last Seen', type: 'string', cell: lastSeen },
  { name: 'Type', type: 'string', cell: (e) => e.type ?? '' },
  { name: 'Reason', type: 'string', cell: (e) => e.reason ?? '' },
  { name: 'Object', type: 'string', cell: eventObject },
  { name: 'Subobject', type: 'string', priority: 1, cell: (e) => e.regarding?.fieldPath ?? '' },
  { name: 'Source', type: 'string', priority: 1, cell: eventSource },
  { name: 'Message', type: 'string', cell: (e) => (e.note ?? '').trim() },
  { name: 'First Seen', type: 'string', priority: 1, cell: firstSeen },
  { name: 'Count', type: 'string', priority: 1, cell: eventCount },
  { name: 'Name', type: 'string', priority: 1, format: 'name', cell: (e) => e.metadata.name },
];

// ---- conversion between the two shapes of one stored event ----

/** eventFromCore is Convert_core_Event_To_v1_Event on JSON: core/v1 Event → events.k8s.io/v1 Event. */
export function eventFromCore(c: CoreEvent): Event {
  const e: Event = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: c.metadata, eventTime: c.eventTime ?? null };
  if (c.series) e.series = c.series;
  if (c.reportingComponent) e.reportingController = c.reportingComponent;
  if (c.reportingInstance) e.reportingInstance = c.reportingInstance;
  if (c.action) e.action = c.action;
  if (c.reason) e.reason = c.reason;
  e.regarding = c.involvedObject ?? {};
  if (c.related) e.related = c.related;
  if (c.message) e.note = c.message;
  if (c.type) e.type = c.type;
  e.deprecatedSource = c.source ?? {};
  e.deprecatedFirstTimestamp = c.firstTimestamp ?? null;
  e.deprecatedLastTimestamp = c.lastTimestamp ?? null;
  if (c.count) e.deprecatedCount = c.count;
  return e;
}

/** eventToCore is Convert_v1_Event_To_core_Event on JSON: events.k8s.io/v1 Event → core/v1 Event. */
export function eventToCore(e: Event): CoreEvent {
  const c: CoreEvent = { apiVersion: 'v1', kind: 'Event', metadata: e.metadata, involvedObject: e.regarding ?? {} };
  if (e.reason) c.reason = e.reason;
  if (e.note) c.message = e.note;
  c.source = e.deprecatedSource ?? {};
  c.firstTimestamp = e.deprecatedFirstTimestamp ?? null;
  c.lastTimestamp = e.deprecatedLastTimestamp ?? null;
  if (e.deprecatedCount) c.count = e.deprecatedCount;
  if (e.type) c.type = e.type;
  c.eventTime = e.eventTime ?? null;
  if (e.series) c.series = e.series;
  if (e.action) c.action = e.action;
  if (e.related) c.related = e.related;
  if (e.reportingController) c.reportingComponent = e.reportingController;
  if (e.reportingInstance) c.reportingInstance = e.reportingInstance;
  return c;
}

export const eventsV1 = defineResource<Event>({
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  storageVersion: { group: '', version: 'v1', kind: 'Event' },
  // The same plural as core/v1 events: in Kubernetes both APIs serve one stored resource.
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  printerColumns: eventColumns,
  // The field labels events.k8s.io/v1 accepts (AddFieldLabelConversionsForEvent), read from the v1 shape.
  fieldSelectors: {
    'regarding.kind': (e) => e.regarding?.kind ?? '',
    'regarding.namespace': (e) => e.regarding?.namespace ?? '',
    'regarding.name': (e) => e.regarding?.name ?? '',
    'regarding.uid': (e) => e.regarding?.uid ?? '',
    'regarding.apiVersion': (e) => e.regarding?.apiVersion ?? '',
    'regarding.resourceVersion': (e) => e.regarding?.resourceVersion ?? '',
    'regarding.fieldPath': (e) => e.regarding?.fieldPath ?? '',
    reason: (e) => e.reason ?? '',
    reportingController: (e) => e.reportingController ?? '',
    source: (e) => e.deprecatedSource?.component || e.reportingController || '',
    type: (e) => e.type ?? '',
  },
  defaults: defaultEvent,
  validate: validateEvent,
  validateUpdate: validateEventUpdate,
  allowCreateOnUpdate: true,
});
