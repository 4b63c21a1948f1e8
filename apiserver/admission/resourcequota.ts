// The ResourceQuota admission plugin (k8s.io/apiserver admission/plugin/resourcequota): a create
// (or an update that changes usage) is charged to every quota of its namespace that limits what
// it uses; it is refused when the new usage would pass a quota's hard limit, or when a compute
// quota needs a request or limit the pod does not set. The charge is written to the quota's
// status.used with the quota's resourceVersion as precondition before the object is admitted,
// and the evaluations of one namespace run one at a time, so two concurrent creates cannot both
// take the last unit. A create that then fails leaves its charge behind until the resource quota
// controller recounts the namespace, as in Kubernetes.

import type { ResourceQuota } from '../../lib/api/core/resourcequota.js';
import type { Logger } from '../../lib/log.js';
import { forbidden, isConflict, isNotFound } from '../../lib/machinery/status.js';
import { type Evaluator, type GroupResource, evaluatorFor, quotaMatches } from '../../lib/quota/evaluators.js';
import { type Amounts, add, exceeded, fromList, mask, negative, prettyPrint, removeZeros, subtractNonNegative, toList } from '../../lib/quota/resources.js';
import type { AdmissionRequest } from '../registry/store.js';
import { admissionName } from './limitranger.js';

/** QuotaStore is the access the plugin needs to a namespace's quotas. */
export interface QuotaStore {
  /** list returns the namespace's quotas; fresh reads every write so far, else the cache may lag. */
  list(namespace: string, fresh: boolean): Promise<ResourceQuota[]>;
  /** updateStatus writes q.status at q's resourceVersion; a 409 Conflict StatusError when the quota moved. */
  updateStatus(q: ResourceQuota): Promise<ResourceQuota>;
}

/** maxAttempts bounds the re-reads after conflicting status writes (kube retries a few times too). */
const maxAttempts = 5;

const names = (list: Amounts | undefined) => [...(list?.keys() ?? [])].sort();

/**
 * checkRequest is the evaluator's checkRequest: it returns the quotas whose status.used the
 * request changes (with the new usage), or throws the 403 Forbidden that refuses it.
 */
export function checkRequest(quotas: readonly ResourceQuota[], req: AdmissionRequest, e: Evaluator, gr: GroupResource, now: Date): ResourceQuota[] {
  const name = admissionName(req.object, req.name);
  const interesting: ResourceQuota[] = [];
  for (const q of quotas) {
    const hard = names(fromList(q.status?.hard));
    if (!quotaMatches(q, hard, e, req.object)) continue;
    const restricted = e.matchingResources(hard);
    const constraint = e.constraints(restricted, req.object);
    if (constraint) throw forbidden(gr, name, `failed quota: ${q.metadata.name}: ${constraint}`);
    const used = q.status?.used ?? {};
    const unknown = restricted.filter((r) => q.status?.hard?.[r] !== undefined && used[r] === undefined);
    if (unknown.length) throw forbidden(gr, name, `status unknown for quota: ${q.metadata.name}, resources: ${[...restricted].sort().join(',')}`);
    interesting.push(q);
  }
  if (!interesting.length) return [];

  let delta = e.usage(req.object, now);
  const neg = negative(delta);
  if (neg.length) throw forbidden(gr, name, `quota usage is negative for resource(s): ${neg.sort().join(',')}`);
  if (req.operation === 'UPDATE' && req.oldObject?.metadata?.resourceVersion) delta = subtractNonNegative(delta, e.usage(req.oldObject, now));
  delta = removeZeros(delta);
  if (!delta.size) return [];

  const out: ResourceQuota[] = [];
  for (const q of interesting) {
    const hard = fromList(q.status?.hard);
    const used = fromList(q.status?.used);
    const requested = mask(delta, hard.keys());
    if (!requested.size) continue;
    const newUsage = add(used, requested);
    const over = exceeded(mask(newUsage, requested.keys()), hard);
    if (over.length) {
      throw forbidden(
        gr,
        name,
        `exceeded quota: ${q.metadata.name}, requested: ${prettyPrint(mask(requested, over))}, used: ${prettyPrint(mask(used, over))}, limited: ${prettyPrint(mask(hard, over))}`,
      );
    }
    out.push({ ...q, status: { ...q.status, used: { ...q.status?.used, ...toList(mask(newUsage, requested.keys())) } } });
  }
  return out;
}

/** QuotaAdmission runs checkRequest one request at a time per namespace and charges the quotas. */
export class QuotaAdmission {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: QuotaStore,
    private readonly log?: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** validate is the plugin's Validate: objects of namespaces only, main resources only. */
  async validate(req: AdmissionRequest, gr: GroupResource): Promise<void> {
    if (req.subresource || !req.namespace) return;
    const e = evaluatorFor(gr);
    if (!e.handles(req.operation)) return;
    // The cache answers "are there quotas here at all" without a round trip; most namespaces have none.
    if (!(await this.store.list(req.namespace, false)).length) return;
    await this.serialize(req.namespace, () => this.evaluate(req, e, gr));
  }

  private async serialize(namespace: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.tails.get(namespace) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(namespace, tail);
    try {
      await run;
    } finally {
      if (this.tails.get(namespace) === tail) this.tails.delete(namespace);
    }
  }

  private async evaluate(req: AdmissionRequest, e: Evaluator, gr: GroupResource): Promise<void> {
    const charged = new Set<string>();
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const quotas = (await this.store.list(req.namespace!, true)).filter((q) => !charged.has(q.metadata.name ?? ''));
      const updates = checkRequest(quotas, req, e, gr, this.now());
      if (!updates.length || req.ctx.dryRun) return;
      let conflicted = false;
      for (const q of updates) {
        try {
          await this.store.updateStatus(q);
          charged.add(q.metadata.name ?? '');
        } catch (err) {
          // A quota deleted meanwhile limits nothing; one that moved is read again.
          if (isNotFound(err)) continue;
          if (!isConflict(err)) throw err;
          conflicted = true;
        }
      }
      if (!conflicted) return;
      this.log?.debug('Quota status moved while charging: reading it again', { namespace: req.namespace, attempt });
    }
    throw forbidden(gr, admissionName(req.object, req.name), 'unable to update quota status: too many conflicting updates, try again');
  }
}
