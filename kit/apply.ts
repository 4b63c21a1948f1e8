// cluster.apply: server-side apply of manifests, as `kubectl apply --server-side --force-conflicts`
// does it, with client-node's generic KubernetesObjectApi (discovery finds each kind's resource).

import { ApiException, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

export type { KubernetesObject };

/** ApplyInput is YAML text (any number of documents), one object, or a list of objects. */
export type ApplyInput = string | KubernetesObject | KubernetesObject[];

/** fieldManager is the manager name the kit applies as. */
export const fieldManager = 'skiff-testing';

/** ApplyError says which object the apiserver refused, and why (its Status message). */
export class ApplyError extends Error {
  override name = 'ApplyError';
}

/** parseManifests reads YAML documents into objects, skipping empty ones and opening `kind: List`. */
export function parseManifests(text: string): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new ApplyError(`apply: invalid YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJSON() as (KubernetesObject & { items?: KubernetesObject[] }) | null;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ApplyError('apply: a YAML document is not an object');
    if (value.kind === 'List' && Array.isArray(value.items)) out.push(...value.items);
    else out.push(value);
  }
  return out;
}

/** applyObjects applies each object in order; after a CRD it waits for the CRD to be Established. */
export async function applyObjects(kubeConfig: KubeConfig, objects: KubernetesObject[], signal: AbortSignal): Promise<KubernetesObject[]> {
  // Discovery is cached per client: a new one after each CRD sees the new kind.
  let api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const out: KubernetesObject[] = [];
  for (const obj of objects) {
    const what = `${obj.kind ?? '<no kind>'} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? '<no name>'}`;
    if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) throw new ApplyError(`apply ${what}: apiVersion, kind and metadata.name are required`);
    let applied: KubernetesObject;
    try {
      applied = await api.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw new ApplyError(`apply ${what}: ${describe(err)}`, { cause: err });
    }
    out.push(applied);
    if (obj.kind === 'CustomResourceDefinition' && obj.apiVersion.startsWith('apiextensions.k8s.io/')) {
      await waitEstablished(api, applied, signal);
      api = KubernetesObjectApi.makeApiClient(kubeConfig);
    }
  }
  return out;
}

/** waitEstablished polls a CRD until its Established condition is True (30 s at most). */
async function waitEstablished(api: KubernetesObjectApi, crd: KubernetesObject, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const current = (await api.read({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: { name: crd.metadata!.name! } })) as KubernetesObject & {
      status?: { conditions?: { type: string; status: string; message?: string }[] };
    };
    const established = current.status?.conditions?.find((c) => c.type === 'Established');
    if (established?.status === 'True') return;
    if (signal.aborted) throw new ApplyError(`apply CustomResourceDefinition ${crd.metadata!.name}: the cluster stopped`);
    if (Date.now() > deadline) {
      const why = current.status?.conditions?.map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`).join(', ') || 'no conditions';
      throw new ApplyError(`apply CustomResourceDefinition ${crd.metadata!.name}: not Established after 30 s: ${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** describe renders an ApiException as its code and Status message. */
function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let message: string | undefined;
    try {
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
      message = parsed?.message;
    } catch {
      message = typeof body === 'string' ? body : undefined;
    }
    return `${err.code}${message ? ` ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
