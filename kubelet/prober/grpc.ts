// gRPC probes as Kubernetes' pkg/probe/grpc makes them: the standard health service
// (grpc.health.v1.Health/Check) on the pod IP and the probe's port, without TLS, User-Agent
// `kube-probe/1.32`, connecting and asking within the timeout; SERVING is a success, anything
// else a failure whose text reads as the kubelet's.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { goDuration } from '../../lib/machinery/duration.js';
import { goQuote } from '../../lib/machinery/goquote.js';
import { grpcCodeName } from './exec.js';
import { joinHostPort, type ProbeOutcome } from './result.js';

/** healthDescriptor is grpc.health.v1 (health.proto) with its official field numbers, as a
 * protobufjs descriptor, so that no .proto file needs to be found at run time. */
const healthDescriptor = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: 'ServingStatus', id: 1 } },
                  nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
                },
                Health: { methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' } } },
              },
            },
          },
        },
      },
    },
  },
};

let health: grpc.ServiceClientConstructor | undefined;

/** healthService is the grpc.health.v1.Health client constructor (its .service serves tests too). */
export function healthService(): grpc.ServiceClientConstructor {
  if (health) return health;
  const def = protoLoader.fromJSON(healthDescriptor as Parameters<typeof protoLoader.fromJSON>[0], { keepCase: true, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  health = pkg.grpc.health.v1.Health;
  return health;
}

/** grpcProbe asks host:port's health service about service within timeoutSeconds. */
export async function grpcProbe(host: string, service: string, port: number, timeoutSeconds: number): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  const timeout = goDuration(timeoutSeconds * 1000);
  const Health = healthService();
  const client = new Health(addr, grpc.credentials.createInsecure(), { 'grpc.primary_user_agent': 'kube-probe/1.32' });
  const deadline = Date.now() + timeoutSeconds * 1000;
  try {
    try {
      await new Promise<void>((resolve, reject) => client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())));
    } catch {
      // As with Go's blocking dial: a refused or silent address is retried until the deadline.
      return { result: 'failure', output: `timeout: failed to connect service ${goQuote(addr)} within ${timeout}: context deadline exceeded` };
    }
    const check = (client as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: { status: string }) => void) => void>).Check!;
    let res: { status: string };
    try {
      res = await new Promise((resolve, reject) => check.call(client, { service }, { deadline }, (err, r) => (err ? reject(err) : resolve(r))));
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.UNIMPLEMENTED) {
        return { result: 'failure', output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` };
      }
      if (e.code === grpc.status.DEADLINE_EXCEEDED) return { result: 'failure', output: `timeout: health rpc did not complete within ${timeout}` };
      const text = typeof e.code === 'number' ? `rpc error: code = ${grpcCodeName(e.code)} desc = ${e.details}` : String(err);
      return { result: 'failure', output: `error: health rpc probe failed: ${text}` };
    }
    if (res.status !== 'SERVING') return { result: 'failure', output: `service unhealthy (responded with ${goQuote(res.status)})` };
    return { result: 'success', output: 'service healthy' };
  } finally {
    client.close();
  }
}

