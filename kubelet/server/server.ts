// The kubelet's HTTPS API on port 10250. INTERFACE STUB: the signature is the contract between
// the kubelet's main and the streaming server; the body is filled in by the server work.

import type { Logger } from '../../lib/log.js';
import type { Registry } from '../../lib/metrics.js';
import type { CriClient } from '../cri/client.js';

/** KubeletServerOptions configure the kubelet's API server. */
export interface KubeletServerOptions {
  address: string;
  port: number;
  /** tls: serving certificate and key (PEM) and the CA whose client certificates are accepted. */
  tls: { cert: string; key: string; clientCA: string };
  runtime: CriClient;
  log: Logger;
  metrics: Registry;
}

/** KubeletServer is a running kubelet API server. */
export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

/** startKubeletServer serves /containerLogs, /exec, /attach, /portForward, /pods, /healthz and /metrics. */
export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  void opts;
  return { port: opts.port, close: async () => {} };
}
