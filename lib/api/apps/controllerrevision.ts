// apps/v1 ControllerRevision: an immutable snapshot of a DaemonSet's or StatefulSet's template,
// the history `kubectl rollout history|undo` reads (pkg/registry/apps/controllerrevision).

import { Path, type FieldError, invalidValue, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { nameIsDNSSubdomain, validateImmutable, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';

/** ControllerRevision is apps/v1 ControllerRevision: data is the owner's patch, revision its number. */
export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision?: number;
}

/** validateControllerRevision is ValidateControllerRevision: metadata, data present, revision ≥ 0. */
export function validateControllerRevision(cr: ControllerRevision): FieldError[] {
  const errs = validateObjectMeta(cr.metadata, true, nameIsDNSSubdomain);
  if (cr.data === undefined || cr.data === null) errs.push(required(new Path('data'), 'data is mandatory'));
  const revision = cr.revision ?? 0;
  if (revision < 0) errs.push(invalidValue(new Path('revision'), revision, 'must be greater than or equal to 0'));
  return errs;
}

/** validateControllerRevisionUpdate: data never changes once written (only the revision number may). */
export function validateControllerRevisionUpdate(cr: ControllerRevision, old: ControllerRevision): FieldError[] {
  return [...validateControllerRevision(cr), ...validateImmutable(cr.data, old.data, new Path('data'))];
}

/** controllerOf prints the controlling owner as kubectl does: `daemonset.apps/name`, or `<none>`. */
export function controllerOf(obj: KubeObject): string {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller === true);
  if (ref === undefined) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  return `${ref.kind.toLowerCase()}${group ? `.${group}` : ''}/${ref.name}`;
}

const controllerRevisionColumns: PrinterColumn<ControllerRevision>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (cr) => cr.metadata.name },
  { name: 'Controller', type: 'string', description: 'Controller of the object', cell: controllerOf },
  { name: 'Revision', type: 'integer', cell: (cr) => cr.revision ?? 0 },
  { name: 'Age', type: 'string', cell: (cr, now) => age(cr.metadata.creationTimestamp, now) },
];

export const controllerRevisions = defineResource<ControllerRevision>({
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  printerColumns: controllerRevisionColumns,
  validate: validateControllerRevision,
  validateUpdate: validateControllerRevisionUpdate,
});
