// core/v1 Secret: base64 data under config keys (1 MiB), a type that never changes and that
// requires certain keys, write-only stringData folded into data, and `immutable: true`.

import { type FieldError, Path, invalidValue, required, tooLong } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import { MaxSecretSize, base64Length } from './configmap.js';
import { fieldImmutableErrorMsg, forbiddenWhenImmutable, isConfigMapKey, jsonEqual } from './validation.js';

export const SecretType = {
  Opaque: 'Opaque',
  ServiceAccountToken: 'kubernetes.io/service-account-token',
  Dockercfg: 'kubernetes.io/dockercfg',
  DockerConfigJson: 'kubernetes.io/dockerconfigjson',
  BasicAuth: 'kubernetes.io/basic-auth',
  SSHAuth: 'kubernetes.io/ssh-auth',
  TLS: 'kubernetes.io/tls',
  BootstrapToken: 'bootstrap.kubernetes.io/token',
} as const;

/** SecretKeys are the keys each typed secret is known by. */
export const SecretKeys = {
  serviceAccountName: 'kubernetes.io/service-account.name',
  serviceAccountUID: 'kubernetes.io/service-account.uid',
  serviceAccountToken: 'token',
  serviceAccountCA: 'ca.crt',
  serviceAccountNamespace: 'namespace',
  dockercfg: '.dockercfg',
  dockerConfigJson: '.dockerconfigjson',
  basicAuthUsername: 'username',
  basicAuthPassword: 'password',
  sshPrivateKey: 'ssh-privatekey',
  tlsCert: 'tls.crt',
  tlsKey: 'tls.key',
} as const;

/** Secret is core/v1 Secret. */
export interface Secret extends KubeObject {
  /** data values are base64 on the wire. */
  data?: Record<string, string>;
  /** stringData is write-only: the server folds it into data and never returns it. */
  stringData?: Record<string, string>;
  type?: string;
  immutable?: boolean;
}

/** secretValue decodes one data entry. */
export function secretValue(secret: Secret, key: string): Buffer | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64');
}

function defaultSecret(secret: Secret): void {
  if (!secret.type) secret.type = SecretType.Opaque;
}

/** mergeStringData folds stringData into data (stringData wins, as the v1 conversion does) and drops it. */
export function mergeStringData(secret: Secret): void {
  if (secret.stringData) {
    secret.data ??= {};
    for (const [k, v] of Object.entries(secret.stringData)) secret.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete secret.stringData;
}

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function dataPresent(secret: Secret, key: string): boolean {
  return !!secret.data && key in secret.data;
}

function jsonError(text: string): string | undefined {
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'json: cannot unmarshal into Go value of type map[string]interface {}';
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** validateSecret is ValidateSecret. */
export function validateSecret(secret: Secret): FieldError[] {
  const errs = validateObjectMeta(secret.metadata, true, nameIsDNSSubdomain);
  const dataPath = new Path('data');
  let total = 0;
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    errs.push(...isConfigMapKey(key).map((m) => invalidValue(dataPath.key(key), key, m)));
    if (typeof value !== 'string' || !base64Re.test(value)) errs.push(invalidValue(dataPath.key(key), '<secret contents redacted>', 'illegal base64 data'));
    total += base64Length(String(value ?? ''));
  }
  if (total > MaxSecretSize) errs.push(tooLong(dataPath, '', MaxSecretSize));
  switch (secret.type ?? '') {
    case SecretType.ServiceAccountToken:
      if (!secret.metadata.annotations?.[SecretKeys.serviceAccountName]) {
        errs.push(required(new Path('metadata').child('annotations').key(SecretKeys.serviceAccountName)));
      }
      break;
    case SecretType.Dockercfg:
    case SecretType.DockerConfigJson: {
      const key = secret.type === SecretType.Dockercfg ? SecretKeys.dockercfg : SecretKeys.dockerConfigJson;
      if (!dataPresent(secret, key)) {
        errs.push(required(dataPath.key(key)));
        break;
      }
      const problem = jsonError(secretValue(secret, key)!.toString('utf8'));
      if (problem) errs.push(invalidValue(dataPath.key(key), '<secret contents redacted>', problem));
      break;
    }
    case SecretType.BasicAuth:
      // Either may be empty, but at least one of the two keys must be there.
      if (!dataPresent(secret, SecretKeys.basicAuthUsername) && !dataPresent(secret, SecretKeys.basicAuthPassword)) {
        errs.push(required(dataPath.key(SecretKeys.basicAuthUsername)), required(dataPath.key(SecretKeys.basicAuthPassword)));
      }
      break;
    case SecretType.SSHAuth:
      if (!secretValue(secret, SecretKeys.sshPrivateKey)?.length) errs.push(required(dataPath.key(SecretKeys.sshPrivateKey)));
      break;
    case SecretType.TLS:
      if (!dataPresent(secret, SecretKeys.tlsCert)) errs.push(required(dataPath.key(SecretKeys.tlsCert)));
      if (!dataPresent(secret, SecretKeys.tlsKey)) errs.push(required(dataPath.key(SecretKeys.tlsKey)));
      break;
  }
  return errs;
}

/** validateSecretUpdate: the type never changes; an immutable secret keeps its data and immutability. */
export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs: FieldError[] = [];
  if ((secret.type ?? '') !== (old.type ?? '')) errs.push(invalidValue('type', secret.type ?? '', fieldImmutableErrorMsg));
  if (old.immutable) {
    if (!secret.immutable) errs.push(forbiddenWhenImmutable('immutable'));
    if (!jsonEqual(secret.data ?? {}, old.data ?? {})) errs.push(forbiddenWhenImmutable('data'));
  }
  return errs;
}

export const secrets = defineResource<Secret>({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (s) => s.metadata.name },
    { name: 'Type', type: 'string', cell: (s) => s.type ?? '' },
    { name: 'Data', type: 'string', cell: (s) => Object.keys(s.data ?? {}).length },
    { name: 'Age', type: 'string', cell: (s, now) => age(s.metadata.creationTimestamp, now) },
  ],
  fieldSelectors: {
    type: (s) => s.type ?? '',
  },
  defaults: defaultSecret,
  prepareForCreate: (s) => mergeStringData(s),
  prepareForUpdate: (s) => mergeStringData(s),
  validate: validateSecret,
  validateUpdate: validateSecretUpdate,
});
