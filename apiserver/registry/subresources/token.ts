// serviceaccounts/token: TokenRequest, a bound and expiring JWT for a service account (kube's
// TokenREST). The token names the service account, optionally the Pod or Secret it is bound to
// and that pod's node; the authenticator refuses it once any of them is gone.

import { defaultTokenExpirationSeconds, validateTokenRequest, type TokenRequest } from '../../../lib/api/authentication/tokenrequest.js';
import type { KubeObject } from '../../../lib/api/meta.js';
import { badRequest, conflict, invalid, isNotFound, notFoundPath } from '../../../lib/machinery/status.js';
import { expirationExtensionSeconds, warnOnlyBoundTokenExpirationSeconds, type ObjectRef } from '../../auth/serviceaccount/claims.js';
import type { SubresourceRequest, SubresourceStorage } from './types.js';

const gk = { group: 'authentication.k8s.io', kind: 'TokenRequest' };

/** tokenREST issues tokens for the service account it is posted to. */
export const tokenREST: SubresourceStorage = {
  subresource: 'token',
  kind: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1' },
  serves: (def) => def.group === '' && def.plural === 'serviceaccounts',
  bodyName: 'a TokenRequest',
  async create(call, body) {
    const { store, namespace, name, ctx, dryRun, tokenSigner, registry } = call;
    if (!tokenSigner) throw notFoundPath();
    const req = body as unknown as TokenRequest;
    if (req.kind !== undefined && req.kind !== 'TokenRequest') throw badRequest(`the kind in the data (${String(req.kind)}) does not match the expected kind (TokenRequest)`);
    if (req.apiVersion !== undefined && req.apiVersion !== 'authentication.k8s.io/v1') throw badRequest(`the API version in the data (${String(req.apiVersion)}) does not match the expected API version (authentication.k8s.io/v1)`);
    const spec: TokenRequest['spec'] = { ...(typeof req.spec === 'object' && req.spec ? req.spec : {}) };
    spec.expirationSeconds ??= defaultTokenExpirationSeconds;
    if (!spec.audiences?.length) spec.audiences = [...tokenSigner.apiAudiences];
    const out: TokenRequest = {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { ...(req.metadata ?? {}), name, namespace, creationTimestamp: undefined },
      spec,
    };
    const errs = validateTokenRequest(out);
    if (errs.length) throw invalid(gk, name, errs);

    const sa = await store.get(namespace, name);
    const ns = namespace!;
    let pod: KubeObject | undefined;
    let secret: KubeObject | undefined;
    let node: ObjectRef | undefined;
    const ref = spec.boundObjectRef;
    if (ref) {
      const group = (ref.apiVersion ?? '').includes('/') ? ref.apiVersion!.split('/')[0] : '';
      const lookup = async (resource: string): Promise<KubeObject> => {
        const s = registry?.lookup('', 'v1', resource);
        if (!s) throw new Error(`${resource} are not served`);
        return s.get(ns, ref.name ?? '');
      };
      let uid: string | undefined;
      if (group === '' && ref.kind === 'Pod') {
        pod = await lookup('pods');
        const podSA = (pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? '';
        if (podSA !== name) throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with serviceaccount "${podSA}"`);
        uid = pod.metadata.uid;
        node = await podNode(call, pod);
      } else if (group === '' && ref.kind === 'Secret') {
        secret = await lookup('secrets');
        uid = secret.metadata.uid;
      } else {
        throw badRequest(`cannot bind token to object of type ${group ? `${group}/` : ''}${ref.apiVersion?.split('/').pop() ?? ''}, Kind=${ref.kind ?? ''}`);
      }
      if (ref.uid && ref.uid !== uid) {
        throw conflict({ group, resource: ref.kind! }, ref.name ?? '', `the UID in the bound object reference (${ref.uid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`);
      }
    }
    if (dryRun()) return { code: 201, body: out };

    // The kubelet's default projected token (1h7s, for the apiserver) lives a year, so clients
    // that never re-read the file keep working; the claims say when it should have been renewed.
    let lifetime = spec.expirationSeconds!;
    let warnAfter: number | undefined;
    const forAPIServer = spec.audiences.every((a) => tokenSigner.apiAudiences.includes(a));
    if (pod && lifetime === warnOnlyBoundTokenExpirationSeconds && forAPIServer) {
      warnAfter = lifetime;
      lifetime = expirationExtensionSeconds;
    }
    const { token, claims } = await tokenSigner.sign({
      namespace: ns,
      serviceAccount: { name, uid: sa.metadata.uid ?? '' },
      audiences: spec.audiences,
      expirationSeconds: lifetime,
      warnAfterSeconds: warnAfter,
      pod: pod ? { name: pod.metadata.name!, uid: pod.metadata.uid ?? '' } : undefined,
      secret: secret ? { name: secret.metadata.name!, uid: secret.metadata.uid ?? '' } : undefined,
      node,
      now: ctx.now,
    });
    // The status carries the lifetime asked for, so the kubelet renews an extended token on time.
    out.status = { token, expirationTimestamp: new Date((claims.iat + spec.expirationSeconds!) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    return { code: 201, body: out };
  },
};

/** podNode is the node a pod runs on, for the token's node claim (none when unscheduled or the Node is gone). */
async function podNode({ registry }: SubresourceRequest, pod: KubeObject): Promise<ObjectRef | undefined> {
  const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  const nodes = registry?.lookup('', 'v1', 'nodes');
  if (!nodeName || !nodes) return undefined;
  try {
    const node = await nodes.get(undefined, nodeName, '0');
    return { name: nodeName, uid: node.metadata.uid ?? '' };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
