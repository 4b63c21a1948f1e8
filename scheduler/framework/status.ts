// Plugin verdicts (kube-scheduler's framework.Code and framework.Status): a code, the reasons
// shown to users, and the plugin that produced it. Plugins return a Status instead of throwing.

/** Code is a plugin's verdict, framework.Code. */
export const Code = {
  /** Success: the plugin ran and the pod may go on (a nil *Status in Go). */
  Success: 'Success',
  /** Error: an internal error; the pod is retried with backoff, no node is blamed. */
  Error: 'Error',
  /** Unschedulable: the node does not fit now, but preemption may help. */
  Unschedulable: 'Unschedulable',
  /** UnschedulableAndUnresolvable: the node does not fit and preemption cannot change that. */
  UnschedulableAndUnresolvable: 'UnschedulableAndUnresolvable',
  /** Wait: a Permit plugin holds the pod (unused by in-tree plugins here). */
  Wait: 'Wait',
  /** Skip: PreFilter/PreScore found nothing to do; the matching Filter/Score is skipped. */
  Skip: 'Skip',
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/**
 * Status is framework.Status: a code, the reasons shown to users (each reason is counted per node
 * in the FitError message), the plugin that produced it and, for Error, the underlying error.
 */
export interface Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  readonly plugin?: string;
  readonly err?: Error;
}

const successStatus: Status = Object.freeze({ code: Code.Success, reasons: Object.freeze([]) as readonly string[] });

/** success is the shared Success status (plugins return it without allocating). */
export function success(): Status {
  return successStatus;
}

/** unschedulable is a Status with code Unschedulable and the given reasons. */
export function unschedulable(...reasons: string[]): Status {
  return { code: Code.Unschedulable, reasons };
}

/** unresolvable is a Status with code UnschedulableAndUnresolvable and the given reasons. */
export function unresolvable(...reasons: string[]): Status {
  return { code: Code.UnschedulableAndUnresolvable, reasons };
}

/** skip is a Status with code Skip (PreFilter/PreScore: nothing for the next stage to do). */
export function skip(): Status {
  return { code: Code.Skip, reasons: [] };
}

/** asError wraps an error (or message) as a Status with code Error; its reason is the message. */
export function asError(err: unknown): Status {
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: Code.Error, reasons: [e.message], err: e };
}

/** isSuccess: the status is Success (kube treats a nil status the same). */
export function isSuccess(s: Status | undefined): boolean {
  return s === undefined || s.code === Code.Success;
}

/** isRejected: Unschedulable, UnschedulableAndUnresolvable or Wait (Status.IsRejected). */
export function isRejected(s: Status | undefined): boolean {
  return s !== undefined && (s.code === Code.Unschedulable || s.code === Code.UnschedulableAndUnresolvable || s.code === Code.Wait);
}

/** isSkip: the status is Skip. */
export function isSkip(s: Status | undefined): boolean {
  return s !== undefined && s.code === Code.Skip;
}

/** statusMessage is Status.Message(): the reasons joined by ", ". */
export function statusMessage(s: Status | undefined): string {
  return s ? s.reasons.join(', ') : '';
}

/** withPlugin returns the status stamped with the plugin that produced it (a copy; statuses may be shared constants). */
export function withPlugin(s: Status, plugin: string): Status {
  return s.plugin === plugin ? s : { code: s.code, reasons: s.reasons, plugin, err: s.err };
}

/** statusError is Status.AsError(): an Error for an Error status, naming the plugin. */
export function statusError(s: Status): Error {
  if (s.err) return s.err;
  return new Error(s.plugin ? `${s.plugin}: ${statusMessage(s)}` : statusMessage(s));
}
