// exec probes and hooks through CRI ExecSync, as Kubernetes' pkg/probe/exec and the kubelet's
// remote runtime client take them: exit code 0 is a success, another exit code a failure whose
// output (stdout then stderr, at most 10 KiB) goes into the event; a call past its deadline is a
// gRPC error, not an exit code, and counts as a failure with the kubelet's timeout text; any other
// runtime error means the probe could not be run.

import * as grpc from '@grpc/grpc-js';
import { goDuration } from '../../lib/machinery/duration.js';
import { goQuote } from '../../lib/machinery/goquote.js';
import { CriError, type CriClient } from '../cri/client.js';
import { maxOutputBytes, type ProbeOutcome, ProbeError } from './result.js';

/** grpcCodeName is the name Go's grpc-go prints for a status code (`NotFound`, `DeadlineExceeded`). */
export function grpcCodeName(code: grpc.status): string {
  if (code === grpc.status.CANCELLED) return 'Canceled';
  const name = grpc.status[code];
  if (!name) return `Code(${code})`;
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** runtimeErrorText renders a failed CRI call as the kubelet prints it (`rpc error: code = NotFound desc = …`). */
export function runtimeErrorText(err: unknown): string {
  if (err instanceof CriError) return `rpc error: code = ${grpcCodeName(err.code)} desc = ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}

/** isDeadline reports whether err is a CRI call that ran past its deadline. */
function isDeadline(err: unknown): boolean {
  return err instanceof CriError && err.code === grpc.status.DEADLINE_EXCEEDED;
}

/** ExecResult is a command run to its end: its exit code and output (stdout then stderr). */
export interface ExecResult {
  exitCode: number;
  output: string;
  stderr: string;
}

/** ExecTimeoutError is a command that did not finish within its timeout. */
export class ExecTimeoutError extends ProbeError {
  override name = 'ExecTimeoutError';
  constructor(cmd: string[], timeoutSeconds: number) {
    super(`command timed out: ${goQuote(cmd.join(' '))} timed out after ${goDuration(timeoutSeconds * 1000)}`);
  }
}

/** runInContainer runs cmd in a container through ExecSync. It throws an ExecTimeoutError past
 * the timeout and a ProbeError carrying the runtime's error otherwise. */
export async function runInContainer(
  runtime: Pick<CriClient, 'execSync'>,
  containerId: string,
  cmd: string[],
  timeoutSeconds: number,
): Promise<ExecResult> {
  try {
    const res = await runtime.execSync(containerId, cmd, timeoutSeconds);
    const stdout = Buffer.from(res.stdout ?? []);
    const stderr = Buffer.from(res.stderr ?? []);
    return { exitCode: res.exit_code, output: Buffer.concat([stdout, stderr]).toString('utf8'), stderr: stderr.toString('utf8') };
  } catch (err) {
    if (isDeadline(err)) throw new ExecTimeoutError(cmd, timeoutSeconds);
    throw new ProbeError(runtimeErrorText(err), { cause: err });
  }
}

/** truncate keeps at most maxOutputBytes of output, as the exec prober's limited writer does. */
function truncate(s: string): string {
  const b = Buffer.from(s, 'utf8');
  return b.length <= maxOutputBytes ? s : b.subarray(0, maxOutputBytes).toString('utf8');
}

/** execProbe runs an exec probe's command with the probe's timeout. */
export async function execProbe(runtime: Pick<CriClient, 'execSync'>, containerId: string, cmd: string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  try {
    const res = await runInContainer(runtime, containerId, cmd, timeoutSeconds);
    return { result: res.exitCode === 0 ? 'success' : 'failure', output: truncate(res.output) };
  } catch (err) {
    // A timeout is a failure with the timeout's text as output (the ExecProbeTimeout behaviour).
    if (err instanceof ExecTimeoutError) return { result: 'failure', output: err.message };
    return { result: 'unknown', output: '', error: err instanceof Error ? err : new ProbeError(String(err)) };
  }
}
