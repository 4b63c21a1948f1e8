// tcpSocket probes as Kubernetes' pkg/probe/tcp makes them: a connection from the node that opens
// within the timeout is a success (and is closed at once); a refusal or a timeout is a failure
// whose output reads as Go's dialer words it (`dial tcp 10.244.0.5:80: connect: connection refused`).

import { connect } from 'node:net';
import { joinHostPort, type ProbeOutcome, socketErrorText } from './result.js';

/** tcpProbe connects to host:port within timeoutSeconds. */
export function tcpProbe(host: string, port: number, timeoutSeconds: number): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` });
    }, timeoutSeconds * 1000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'success', output: '' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ result: 'failure', output: `dial tcp ${addr}: ${socketErrorText(err)}` });
    });
  });
}
