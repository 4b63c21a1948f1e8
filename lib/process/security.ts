// The security files `skiff up` (and the test harness) give the apiserver: an encryption
// configuration that encrypts Secrets at rest with a fresh aescbc key, and an audit policy that
// records every request without letting a Secret, ConfigMap or token value reach the audit log.
// Both are written once and then left to the operator: an edited file is never overwritten.

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';

/**
 * encryptionConfigYAML is an apiserver.config.k8s.io/v1 EncryptionConfiguration: Secrets written
 * with aescbc key1 (32 random bytes), identity last so Secrets stored before it still read.
 */
export function encryptionConfigYAML(secret = randomBytes(32).toString('base64')): string {
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources:',
    '      - secrets',
    '    providers:',
    '      - aescbc:',
    '          keys:',
    '            - name: key1',
    `              secret: ${secret}`,
    '      - identity: {}',
    '',
  ].join('\n');
}

/**
 * defaultAuditPolicyYAML is the audit.k8s.io/v1 Policy `skiff up` writes, after the policies
 * Kubernetes recommends (GCE's configure-helper): Secrets, ConfigMaps, token requests and
 * TokenReviews at Metadata only, so no secret value or token is ever logged; health checks and
 * lease renewals (every component, every few seconds) not at all; reads at Metadata; writes with
 * their request and response bodies. RequestReceived is omitted: ResponseComplete says it all.
 */
export const defaultAuditPolicyYAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: None
    nonResourceURLs:
      - /healthz*
      - /livez*
      - /readyz*
      - /version
  - level: None
    verbs: ["get", "update"]
    resources:
      - group: coordination.k8s.io
        resources: ["leases"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps", "serviceaccounts/token"]
      - group: authentication.k8s.io
        resources: ["tokenreviews"]
  - level: Metadata
    verbs: ["get", "list", "watch"]
  - level: RequestResponse
    omitManagedFields: true
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  - level: Metadata
`;

/** ensureEncryptionConfig writes a new encryption configuration (0600: it holds the key) unless one exists. */
export function ensureEncryptionConfig(path: string): void {
  if (existsSync(path)) return;
  writePrivate(path, encryptionConfigYAML());
}

/** ensureAuditPolicy writes the default audit policy unless one exists. */
export function ensureAuditPolicy(path: string): void {
  if (existsSync(path)) return;
  writePrivate(path, defaultAuditPolicyYAML);
}

/** writePrivate writes a file only its owner reads, in one rename. */
function writePrivate(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
