// The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount): a new pod runs as
// the `default` service account unless it names another, which must exist; unless the pod or
// its service account opts out, every container and init container mounts a projected
// `kube-api-access-<random>` volume with a bound token, the cluster's CA and the namespace at
// /var/run/secrets/kubernetes.io/serviceaccount.

import { randomInt } from 'node:crypto';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ServiceAccount } from '../../lib/api/core/serviceaccount.js';
import type { Container, Volume, VolumeMount } from '../../lib/api/core/types.js';
import { forbidden, isNotFound } from '../../lib/machinery/status.js';
import type { AdmissionRequest } from '../registry/store.js';

/** defaultServiceAccountName is the service account of a pod that names none. */
export const defaultServiceAccountName = 'default';

/** serviceAccountVolumeName prefixes the projected token volume's name. */
export const serviceAccountVolumeName = 'kube-api-access';

/** defaultAPITokenMountPath is where containers find the token, ca.crt and namespace. */
export const defaultAPITokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';

/** rootCAConfigMapName is the ConfigMap the root CA publisher keeps in every namespace. */
export const rootCAConfigMapName = 'kube-root-ca.crt';

/** mirrorPodAnnotation marks a static pod's mirror, which the plugin leaves alone. */
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

/** ServiceAccountReader reads a service account; cached reads may lag, live ones ask the storage. */
export interface ServiceAccountReader {
  get(namespace: string, name: string, live: boolean): Promise<ServiceAccount | undefined>;
}

/** nameAlphabet is what apimachinery's rand.String draws from (no vowels, no confusable digits). */
const nameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** randomSuffix is five characters of nameAlphabet, as names.SimpleNameGenerator makes them. */
export function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += nameAlphabet[randomInt(nameAlphabet.length)];
  return out;
}

/** tokenVolumeSource is the projected volume's source, spelled out as kube's TokenVolumeSource (defaults included). */
export function tokenVolumeSource(): NonNullable<Volume['projected']> {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: rootCAConfigMapName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/** AdmitOptions tune the plugin for tests: the retry pause and the volume name suffix. */
export interface AdmitOptions {
  retryIntervalMs?: () => number;
  suffix?: () => string;
}

/** admitServiceAccount is the plugin on a pod create; updates pass untouched. */
export async function admitServiceAccount(req: AdmissionRequest, accounts: ServiceAccountReader, opts: AdmitOptions = {}): Promise<void> {
  if (req.operation !== 'CREATE') return;
  const pod = req.object as Pod;
  if (pod.metadata.annotations?.[mirrorPodAnnotation] !== undefined) return;
  pod.spec ??= { containers: [] };
  if (!pod.spec.serviceAccountName) pod.spec.serviceAccountName = defaultServiceAccountName;
  // The deprecated field mirrors the name, as the pod defaults keep it: an update (which is
  // defaulted again) would otherwise look like a change of the immutable spec.
  pod.spec.serviceAccount = pod.spec.serviceAccountName;
  const namespace = req.namespace ?? pod.metadata.namespace ?? 'default';
  const name = pod.spec.serviceAccountName;
  const sa = await lookUp(accounts, namespace, name, opts.retryIntervalMs ?? (() => 100 + randomInt(100)));
  if (!sa) {
    throw forbidden({ group: '', resource: 'pods' }, req.name, `error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`);
  }
  if (shouldAutomount(sa, pod)) mountServiceAccountToken(pod, opts.suffix ?? randomSuffix);
}

/**
 * lookUp finds the service account in the cache, else asks the storage: ten times for `default`,
 * which the service account controller may not have made yet in a new namespace, once for others.
 */
async function lookUp(accounts: ServiceAccountReader, namespace: string, name: string, interval: () => number): Promise<ServiceAccount | undefined> {
  const cached = await accounts.get(namespace, name, false);
  if (cached) return cached;
  const attempts = name === defaultServiceAccountName ? 10 : 1;
  const pause = interval();
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, pause));
    const live = await accounts.get(namespace, name, true);
    if (live) return live;
  }
  return undefined;
}

/** shouldAutomount: the pod's automountServiceAccountToken wins, then the service account's; default yes. */
function shouldAutomount(sa: ServiceAccount, pod: Pod): boolean {
  if (pod.spec.automountServiceAccountToken !== undefined && pod.spec.automountServiceAccountToken !== null) return pod.spec.automountServiceAccountToken;
  if (sa.automountServiceAccountToken !== undefined && sa.automountServiceAccountToken !== null) return sa.automountServiceAccountToken;
  return true;
}

/**
 * mountServiceAccountToken mounts the token volume in every container and init container that
 * has nothing mounted at the token path yet, and adds the volume when one of them needs it (an
 * existing kube-api-access-* volume is reused).
 */
function mountServiceAccountToken(pod: Pod, suffix: () => string): void {
  const existing = (pod.spec.volumes ?? []).find((v) => v.name.startsWith(`${serviceAccountVolumeName}-`));
  const volumeName = existing?.name ?? `${serviceAccountVolumeName}-${suffix()}`;
  const mount: VolumeMount = { name: volumeName, readOnly: true, mountPath: defaultAPITokenMountPath };
  let needed = false;
  const visit = (containers: Container[] | undefined) => {
    for (const c of containers ?? []) {
      if ((c.volumeMounts ?? []).some((m) => m.mountPath === defaultAPITokenMountPath)) continue;
      c.volumeMounts = [...(c.volumeMounts ?? []), { ...mount }];
      needed = true;
    }
  };
  visit(pod.spec.initContainers);
  visit(pod.spec.containers);
  if (!existing && needed) pod.spec.volumes = [...(pod.spec.volumes ?? []), { name: volumeName, projected: tokenVolumeSource() }];
}

/** registryServiceAccountReader is a ServiceAccountReader over a store's get. */
export function registryServiceAccountReader(get: (namespace: string, name: string, resourceVersion?: string) => Promise<unknown>): ServiceAccountReader {
  return {
    async get(namespace, name, live) {
      try {
        return (await get(namespace, name, live ? undefined : '0')) as ServiceAccount;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}
