// The outcome of one probe run, in the terms of Kubernetes' pkg/probe: a result, the output that
// goes into the event message, and an error when the probe could not be run at all (an error is
// not a failure: the kubelet throws such a result away and does not count it).

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container, IntOrString } from '../../lib/api/core/types.js';
import { goQuote } from '../../lib/machinery/goquote.js';

/** ProbeResult is pkg/probe's Result; its text is what "resulted in %s state" prints. */
export type ProbeResult = 'success' | 'warning' | 'failure' | 'unknown';

/** ProbeOutcome is one run of a probe handler. */
export interface ProbeOutcome {
  result: ProbeResult;
  output: string;
  /** error is set when the probe could not be run (bad port, runtime error); the result is then thrown away. */
  error?: Error;
}

/** maxOutputBytes bounds what an exec probe's output and an HTTP probe's body contribute (10 KiB, as the kubelet). */
export const maxOutputBytes = 10 * 1024;

/** ProbeError is a probe that could not be run; its message is the text Kubernetes prints after "errored…:". */
export class ProbeError extends Error {
  override name = 'ProbeError';
}

/** resolveContainerPort turns a probe's port (a number, or a name of one of the container's ports, or
 * a number written as a string) into a port number, with Kubernetes' error texts. */
export function resolveContainerPort(port: IntOrString, container: Container): number {
  let n: number;
  if (typeof port === 'number') {
    n = port;
  } else {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new ProbeError(`strconv.Atoi: parsing ${goQuote(port)}: invalid syntax`);
  }
  if (n > 0 && n < 65536) return n;
  throw new ProbeError(`invalid port number: ${n}`);
}

/** joinHostPort is Go's net.JoinHostPort: an IPv6 address is bracketed. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** socketErrorText renders a Node socket error the way Go's net package words the same failure
 * (`connect: connection refused`), so event messages read as on Kubernetes. */
export function socketErrorText(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connect: connection refused';
    case 'EHOSTUNREACH':
      return 'connect: no route to host';
    case 'ENETUNREACH':
      return 'connect: network is unreachable';
    case 'ECONNRESET':
      return 'read: connection reset by peer';
    case 'ETIMEDOUT':
      return 'i/o timeout';
    case 'EPIPE':
      return 'write: broken pipe';
    default:
      return err.message;
  }
}

/** podFullName is the kubelet's format.Pod: `name_namespace(uid)`. */
export function podFullName(pod: Pick<Pod, 'metadata'>): string {
  return `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;
}
