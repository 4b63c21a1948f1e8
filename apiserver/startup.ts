// retryStartupStep: the apiserver's start-up writes (the system namespaces, PriorityClasses and
// `kubernetes` Service, the RBAC bootstrap policy) are tried again while etcd is briefly
// unavailable, as kube-apiserver's post-start hooks poll, instead of ending the process.

import type { Logger } from '../lib/log.js';
import { isStatusError } from '../lib/machinery/status.js';

/** startupRetryMs bounds how long a start-up step is tried again, as kube-apiserver's post-start hooks poll for 30 s. */
const startupRetryMs = 30_000;

/**
 * retryStartupStep runs an idempotent start-up step again, with back-off, while etcd answers
 * 504 (a deadline passed) or 503: a control-plane member restarted beside its etcd can reach it
 * before that member has caught up with the others, and an apiserver that exited then would
 * not become healthy at all. Any other error, or the last one after startupRetryMs, is thrown.
 */
export async function retryStartupStep(name: string, step: () => Promise<void>, log: Logger, deadlineMs = startupRetryMs): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await step();
    } catch (err) {
      const transient = isStatusError(err) && (err.code === 504 || err.code === 503);
      if (!transient || Date.now() + delay > end) throw err;
      log.warn('Start-up step failed; trying again', { step: name, err: err.message, delayMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
