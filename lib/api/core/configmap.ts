// core/v1 ConfigMap: string data and base64 binaryData under config keys, 1 MiB in all, and
// frozen for good once `immutable: true` is set.

import { type FieldError, Path, invalidValue, tooLong } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import { forbiddenWhenImmutable, isConfigMapKey, jsonEqual } from './validation.js';

/** MaxSecretSize bounds the data of a ConfigMap or Secret: 1 MiB. */
export const MaxSecretSize = 1024 * 1024;

/** ConfigMap is core/v1 ConfigMap. */
export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  /** binaryData values are base64 on the wire. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

/** base64Length is the number of bytes a base64 string decodes to. */
export function base64Length(value: string): number {
  return Buffer.from(value ?? '', 'base64').length;
}

/** validateConfigMap is ValidateConfigMap. */
export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain);
  let total = 0;
  const dataPath = new Path('data');
  const binPath = new Path('binaryData');
  for (const [key, value] of Object.entries(cm.data ?? {})) {
    errs.push(...isConfigMapKey(key).map((m) => invalidValue(dataPath.key(key), key, m)));
    if (cm.binaryData && key in cm.binaryData) errs.push(invalidValue(dataPath.key(key), key, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(String(value ?? ''), 'utf8');
  }
  for (const [key, value] of Object.entries(cm.binaryData ?? {})) {
    errs.push(...isConfigMapKey(key).map((m) => invalidValue(binPath.key(key), key, m)));
    total += base64Length(value);
  }
  // The error names the whole object, so its field is empty.
  if (total > MaxSecretSize) errs.push(tooLong('', '', MaxSecretSize));
  return errs;
}

/** validateConfigMapUpdate: an immutable ConfigMap keeps its data, binaryData and immutability. */
export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable) {
    if (!cm.immutable) errs.push(forbiddenWhenImmutable('immutable'));
    if (!jsonEqual(cm.data ?? {}, old.data ?? {})) errs.push(forbiddenWhenImmutable('data'));
    if (!jsonEqual(cm.binaryData ?? {}, old.binaryData ?? {})) errs.push(forbiddenWhenImmutable('binaryData'));
  }
  return errs;
}

export const configMaps = defineResource<ConfigMap>({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (c) => c.metadata.name },
    { name: 'Data', type: 'string', cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length },
    { name: 'Age', type: 'string', cell: (c, now) => age(c.metadata.creationTimestamp, now) },
  ],
  validate: validateConfigMap,
  validateUpdate: validateConfigMapUpdate,
});
