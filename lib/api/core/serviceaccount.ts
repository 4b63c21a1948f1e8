// core/v1 ServiceAccount: an identity for pods. Its secret references keep only their names.

import { age } from '../../machinery/duration.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import type { LocalObjectReference, ObjectReference } from './types.js';

/** ServiceAccount is core/v1 ServiceAccount. */
export interface ServiceAccount extends KubeObject {
  secrets?: ObjectReference[];
  imagePullSecrets?: LocalObjectReference[];
  automountServiceAccountToken?: boolean;
}

/** cleanSecretReferences strips every field but the name from the secret references, as the strategy does. */
function cleanSecretReferences(sa: ServiceAccount): void {
  if (sa.secrets) sa.secrets = sa.secrets.map((s) => (s.name ? { name: s.name } : {}));
}

export const serviceAccounts = defineResource<ServiceAccount>({
  returnDeletedObject: true,
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  namespaced: true,
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (s) => s.metadata.name },
    { name: 'Secrets', type: 'string', cell: (s) => (s.secrets ?? []).length },
    { name: 'Age', type: 'string', cell: (s, now) => age(s.metadata.creationTimestamp, now) },
  ],
  prepareForCreate: cleanSecretReferences,
  prepareForUpdate: cleanSecretReferences,
  validate: (sa) => validateObjectMeta(sa.metadata, true, nameIsDNSSubdomain),
});
