// pods/eviction: policy/v1 Eviction, a delete of the pod that honours its PodDisruptionBudget
// (kube's EvictionREST, pkg/registry/core/pod/storage/eviction.go).

import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../../../lib/api/meta.js';
import { nowRFC3339 } from '../../../lib/api/meta.js';
import { type Pod, isPodReady } from '../../../lib/api/core/pod.js';
import { DisruptionBudgetCause, type PodDisruptionBudget, UnhealthyPodEvictionPolicy } from '../../../lib/api/policy/poddisruptionbudget.js';
import { pdbGuardsPod, updateDisruptionAllowedCondition } from '../../../lib/api/policy/helpers.js';
import { StatusError, StatusReason, badRequest, conflict, forbidden, isConflict, successStatus, timeout } from '../../../lib/machinery/status.js';
import type { DeleteOptions, GenericStore, RequestContext } from '../store.js';
import type { SubresourceRequest, SubresourceStorage } from './types.js';

type EvictionDeleteOptions = DeleteOptions & { dryRun?: string[] };
type Eviction = KubeObject & { deleteOptions?: EvictionDeleteOptions };

/**
 * MaxDisruptedPodSize bounds status.disruptedPods: past it, evictions the disruption controller
 * has not yet seen through are too many and new ones are refused.
 */
export const MaxDisruptedPodSize = 2000;

/** evictionsRetry is kube's EvictionsRetry: 20 tries, 500 ms apart with 10% jitter. */
const evictionsRetry = { steps: 20, delayMs: 500, jitter: 0.1 };

/** violationMessage is the text of every eviction a budget refuses (kubectl drain prints it and retries). */
export const violationMessage = "Cannot evict pod as it would violate the pod's disruption budget.";

/** budgetRefusal is errors.NewTooManyRequests with a DisruptionBudget cause. */
function budgetRefusal(retryAfterSeconds: number, causeMessage: string): StatusError {
  const details = { causes: [{ reason: DisruptionBudgetCause, message: causeMessage }], ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}) };
  return new StatusError(429, StatusReason.TooManyRequests, violationMessage, details);
}

/** stillProcessing is createTooManyRequestsError: the budget's status lags behind its spec, or the pod changed under us. */
function stillProcessing(pdbName: string): StatusError {
  return budgetRefusal(10, `The disruption budget ${pdbName} is still being processed by the server.`);
}

async function retryOn<T>(shouldRetry: (err: unknown) => boolean, fn: () => Promise<T>): Promise<T> {
  for (let step = 1; ; step++) {
    try {
      return await fn();
    } catch (err) {
      if (!shouldRetry(err)) throw err;
      if (step >= evictionsRetry.steps) throw new RetriesExhaustedError({ cause: err });
      await sleep(evictionsRetry.delayMs * (1 + Math.random() * evictionsRetry.jitter));
    }
  }
}

/** RetriesExhaustedError is wait.ErrWaitTimeout: every retry met a conflict. */
class RetriesExhaustedError extends Error {
  constructor(options: { cause: unknown }) {
    super('timed out waiting for the condition', options);
    this.name = 'RetriesExhaustedError';
  }
}

/** propagateDryRun merges the request's dryRun into the Eviction's deleteOptions (both set must agree). */
function propagateDryRun(eviction: Eviction, queryDryRun: boolean): EvictionDeleteOptions {
  const opts: EvictionDeleteOptions = { ...(eviction.deleteOptions ?? {}) };
  const query = queryDryRun ? ['All'] : [];
  if (!opts.dryRun?.length) opts.dryRun = query.length ? query : undefined;
  else if (query.length && JSON.stringify(query) !== JSON.stringify(opts.dryRun)) {
    throw badRequest(`Non-matching dry-run options in request and content: [${query.join(' ')}] and [${opts.dryRun.join(' ')}]`);
  }
  if (!opts.dryRun) delete opts.dryRun;
  return opts;
}

const isTerminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** canIgnorePDB: a finished, pending or already terminating pod disrupts nothing more by going. */
function canIgnorePDB(pod: Pod): boolean {
  return isTerminal(pod) || pod.status?.phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

/** shouldEnforceResourceVersion: delete exactly the pod judged, unless it is finished or already going. */
function shouldEnforceResourceVersion(pod: Pod): boolean {
  return !isTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

const resourceVersionIsUnset = (o: EvictionDeleteOptions) => !o.preconditions?.resourceVersion;

function withResourceVersion(o: EvictionDeleteOptions, resourceVersion: string | undefined): EvictionDeleteOptions {
  return { ...o, preconditions: { ...o.preconditions, resourceVersion } };
}

/**
 * addConditionAndDeletePod marks the pod with DisruptionTarget=True (reason EvictionByEvictionAPI)
 * through its status, as Kubernetes 1.32 does before an eviction's delete, then deletes it. The
 * condition write honours the delete's preconditions, and the delete then expects the version it
 * wrote.
 */
async function addConditionAndDeletePod(req: SubresourceRequest, ctx: RequestContext, options: EvictionDeleteOptions): Promise<void> {
  const { store, namespace, name } = req;
  if (!ctx.dryRun) {
    const { object } = await store.update(namespace, name, null, { ...ctx, fieldManager: undefined }, {
      subresource: 'status',
      mutate: (current) => {
        const pod = current as Pod;
        const pre = options.preconditions;
        if (pre?.uid && pre.uid !== pod.metadata?.uid) {
          throw conflict({ group: '', resource: 'Pod' }, name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${pod.metadata?.uid}). The object might have been deleted and then recreated`);
        }
        if (pre?.resourceVersion && pre.resourceVersion !== pod.metadata?.resourceVersion) {
          throw conflict({ group: '', resource: 'Pod' }, name, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${pod.metadata?.resourceVersion}). The object might have been modified`);
        }
        const status = (pod.status ??= {});
        const conditions = (status.conditions ??= []);
        const existing = conditions.find((c) => c.type === 'DisruptionTarget');
        const next = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
        if (!existing) conditions.push({ ...next, lastProbeTime: null, lastTransitionTime: nowRFC3339(ctx.now) } as never);
        else {
          if (existing.status !== 'True') existing.lastTransitionTime = nowRFC3339(ctx.now);
          Object.assign(existing, next);
        }
        return pod;
      },
    });
    if (!resourceVersionIsUnset(options)) options = withResourceVersion(options, object.metadata.resourceVersion);
  }
  await store.delete(namespace, name, options, ctx);
}

/**
 * checkAndDecrement is kube's: a budget whose status is current and allows a disruption gives
 * one up and records the pod in disruptedPods (so the controller does not count it healthy while
 * it goes), in one optimistic-concurrency write of its status; otherwise 429 (or 403).
 */
async function checkAndDecrement(pdbs: GenericStore, ctx: RequestContext, podName: string, pdb: PodDisruptionBudget, dryRun: boolean): Promise<void> {
  const name = pdb.metadata.name ?? '';
  const status = (pdb.status ??= {});
  if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw stillProcessing(name);
  const allowed = status.disruptionsAllowed ?? 0;
  const gr = { group: 'policy', resource: 'poddisruptionbudget' };
  if (allowed < 0) throw forbidden(gr, name, 'pdb disruptions allowed is negative');
  if (Object.keys(status.disruptedPods ?? {}).length > MaxDisruptedPodSize) {
    throw forbidden(gr, name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (allowed === 0) {
    throw budgetRefusal(0, `The disruption budget ${name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`);
  }
  status.disruptionsAllowed = allowed - 1;
  if (status.disruptionsAllowed === 0) updateDisruptionAllowedCondition(pdb, ctx.now);
  if (dryRun) return;
  status.disruptedPods = { ...status.disruptedPods, [podName]: nowRFC3339(ctx.now) };
  // pdb carries the resourceVersion it was read at: a concurrent eviction makes this a conflict.
  await pdbs.update(pdb.metadata.namespace, name, pdb, { ...ctx, dryRun: false, fieldManager: undefined }, { subresource: 'status' });
}

/** podDisruptionBudgetsFor lists the budgets of the pod's namespace that guard it. */
async function podDisruptionBudgetsFor(pdbs: GenericStore, pod: Pod): Promise<PodDisruptionBudget[]> {
  const list = await pdbs.list({ namespace: pod.metadata?.namespace, predicate: () => true, selectorActive: false });
  return (list.items as PodDisruptionBudget[]).filter((pdb) => pdbGuardsPod(pdb, pod));
}

/** evictionREST evicts a pod: a delete that its PodDisruptionBudget must allow. */
export const evictionREST: SubresourceStorage = {
  subresource: 'eviction',
  kind: { kind: 'Eviction', group: 'policy', version: 'v1' },
  serves: (def) => def.group === '' && def.plural === 'pods',
  bodyName: 'an Eviction',
  async create(req, body) {
    const { store, namespace, name, ctx, dryRun, registry } = req;
    const eviction = body as Eviction;
    if (eviction.kind !== undefined && eviction.kind !== 'Eviction') throw badRequest(`the kind in the data (${String(eviction.kind)}) does not match the expected kind (Eviction)`);
    if (eviction.metadata?.name && eviction.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`);
    const original = propagateDryRun(eviction, dryRun());
    ctx.dryRun = dryRun(original.dryRun);
    const success = { code: 201, body: { ...successStatus(), code: 201 } };

    // A pod that cannot be disrupted any further goes without asking its budget.
    let pod!: Pod;
    let deleted = false;
    const retryConflicts = resourceVersionIsUnset(original);
    await retryOn(
      (err) => retryConflicts && isConflict(err),
      async () => {
        pod = (await store.get(namespace, name)) as Pod;
        if (!canIgnorePDB(pod)) return;
        let options = original;
        if (shouldEnforceResourceVersion(pod) && resourceVersionIsUnset(original)) options = withResourceVersion(original, pod.metadata?.resourceVersion);
        await addConditionAndDeletePod(req, ctx, options);
        deleted = true;
      },
    ).catch((err) => {
      // Out of retries, the last conflict is the answer (kube returns it as is here).
      throw err instanceof RetriesExhaustedError ? err.cause : err;
    });
    if (deleted) return success;

    const pdbs = registry?.lookup('policy', 'v1', 'poddisruptionbudgets');
    let pdbName = '';
    let deleteAtVersion = false;
    if (pdbs) {
      const guarding = await podDisruptionBudgetsFor(pdbs, pod);
      if (guarding.length > 1) {
        return {
          code: 500,
          body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 },
        };
      }
      if (guarding.length === 1) {
        let pdb = guarding[0]!;
        pdbName = pdb.metadata.name ?? '';
        const status = pdb.status ?? {};
        // A pod that is not ready does not count as healthy: deleting it gives up no disruption,
        // when the policy says so or the budget is met without it.
        const healthyBudget = (status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0;
        if (!isPodReady(pod) && (pdb.spec?.unhealthyPodEvictionPolicy === UnhealthyPodEvictionPolicy.AlwaysAllow || healthyBudget)) {
          deleteAtVersion = true;
        } else {
          let refresh = false;
          await retryOn(isConflict, async () => {
            if (refresh) pdb = (await pdbs.get(namespace, pdbName)) as PodDisruptionBudget;
            refresh = true;
            await checkAndDecrement(pdbs, ctx, name, structuredClone(pdb), ctx.dryRun);
          }).catch(rethrowExhausted(`couldn't update PodDisruptionBudget ${JSON.stringify(pdbName)} due to conflicts`));
        }
      }
    }

    // No budget, or it gave up a disruption, or the pod is unready and may go: delete it.
    // Deleting an unready pod at the version judged makes sure it did not turn ready since.
    const options = deleteAtVersion ? withResourceVersion(original, pod.metadata?.resourceVersion) : original;
    try {
      await addConditionAndDeletePod(req, ctx, options);
    } catch (err) {
      if (isConflict(err) && deleteAtVersion && resourceVersionIsUnset(original)) throw stillProcessing(pdbName);
      throw err;
    }
    return success;
  },
};

/** rethrowExhausted turns running out of conflict retries into kube's 504 Timeout. */
function rethrowExhausted(message: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof RetriesExhaustedError) throw timeout(message, 10);
    throw err;
  };
}
