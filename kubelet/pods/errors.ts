// Why a container could not be started, in the kubelet's words: the Waiting reason and message
// a failed start leaves on the container, and CRI errors printed as Go's gRPC errors read.

import { CriError } from '../cri/client.js';

/** StartError is a container that could not be started: its Waiting reason and message. */
export class StartError extends Error {
  override name = 'StartError';
  constructor(
    readonly reason: string,
    message: string,
    /** eventMessage is the Failed event's text ("Error: …"). */
    readonly eventMessage = `Error: ${message}`,
  ) {
    super(message);
  }
}

/** grpcMessage is a CRI error as the kubelet prints one: rpc error: code = NotFound desc = …. */
export function grpcMessage(err: unknown): string {
  if (err instanceof CriError) {
    const name = String(CriCodeNames[err.code] ?? err.code);
    return `rpc error: code = ${name} desc = ${err.details}`;
  }
  return err instanceof Error ? err.message : String(err);
}

// Go's names of the gRPC codes (codes.Code.String()).
const CriCodeNames: Record<number, string> = {
  1: 'Canceled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  11: 'OutOfRange',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};
