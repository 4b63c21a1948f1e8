// core/v1 Binding: what the scheduler POSTs to pods/<name>/binding to put a pod on a node.
// Serving the subresource (setting spec.nodeName and the PodScheduled condition) is the
// registry's; this file has the type and its validation.

import { type FieldError, Path, notSupported, required } from '../../machinery/field-errors.js';
import type { KubeObject } from '../meta.js';
import type { ObjectReference } from './types.js';

/** Binding is core/v1 Binding: the pod is named by metadata, the node by target. */
export interface Binding extends KubeObject {
  target: ObjectReference;
}

/** validateBinding is ValidatePodBinding: the target is a Node (kind may be left empty) with a name. */
export function validateBinding(binding: Binding): FieldError[] {
  const errs: FieldError[] = [];
  const kind = binding.target?.kind ?? '';
  if (kind && kind !== 'Node') errs.push(notSupported(new Path('target').child('kind'), kind, ['Node', '<empty>']));
  if (!binding.target?.name) errs.push(required(new Path('target').child('name')));
  return errs;
}
