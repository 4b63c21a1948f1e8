// A thin typed client of a container runtime's CRI v1 services (RuntimeService, ImageService) over
// a unix socket: one method per RPC of api.proto, each a promise with a deadline. The schema is
// read at start from the source tree (kubelet/cri/api.proto), as the apiserver reads its .proto
// files; there is no generated code.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  AuthConfig,
  Container,
  ContainerStats,
  ContainerConfig,
  ContainerFilter,
  ContainerStatus,
  ExecSyncResponse,
  Image,
  ImageSpec,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatusResponse,
  StatusResponse,
  VersionResponse,
} from './types.js';

/** criProtoPath finds api.proto beside this file, or in the source tree from dist/. */
function criProtoPath(): string {
  const here = fileURLToPath(new URL('./api.proto', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../../kubelet/cri/api.proto', import.meta.url));
}

let services: { runtime: grpc.ServiceClientConstructor; image: grpc.ServiceClientConstructor } | undefined;

/** loadServices parses api.proto once into the two service client constructors. */
function loadServices(): NonNullable<typeof services> {
  if (services) return services;
  const def = protoLoader.loadSync(criProtoPath(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } };
  services = { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
  return services;
}

/** CriError is a CRI call that failed: code is the gRPC status code (grpc.status.NOT_FOUND, …). */
export class CriError extends Error {
  override name = 'CriError';
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`CRI ${method}: ${grpc.status[code] ?? code}: ${details}`, options);
  }
}

/** isNotFound reports whether err is a CRI NOT_FOUND answer. */
export function isNotFound(err: unknown): boolean {
  return err instanceof CriError && err.code === grpc.status.NOT_FOUND;
}

/** CriClientOptions tune a client: the default deadline of a call (the kubelet's runtime request
 * timeout, 2 minutes). */
export interface CriClientOptions {
  timeoutMs?: number;
}

// The kubelet's limit for a CRI answer (ListContainers on a full node): 16 MiB.
const maxMessageBytes = 16 * 1024 * 1024;

/** CriClient calls one runtime's CRI services through its socket. */
export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;
  private readonly timeoutMs: number;

  constructor(
    readonly socket: string,
    opts: CriClientOptions = {},
  ) {
    const { runtime, image } = loadServices();
    const address = `unix://${socket}`;
    const channelOptions = { 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes };
    this.runtime = new runtime(address, grpc.credentials.createInsecure(), channelOptions);
    // The second client shares the first one's channel: one connection per runtime.
    this.image = new image(address, grpc.credentials.createInsecure(), { channelOverride: this.runtime.getChannel() });
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  /** call makes one unary call and resolves with its answer, or rejects with a CriError. */
  private call<T>(client: grpc.Client, method: string, request: object, timeoutMs = this.timeoutMs): Promise<T> {
    const fn = (client as unknown as Record<string, grpc.requestCallback<T> | ((...args: unknown[]) => unknown)>)[method] as (
      req: object,
      meta: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: T) => void,
    ) => void;
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details || err.message, { cause: err }));
        else resolve(res);
      });
    });
  }

  /** version asks for the runtime's name, version and CRI version. */
  version(): Promise<VersionResponse> {
    return this.call(this.runtime, 'Version', { version: 'v1' });
  }

  /** status asks for the runtime's conditions (RuntimeReady, NetworkReady). */
  status(verbose = false): Promise<StatusResponse> {
    return this.call(this.runtime, 'Status', { verbose });
  }

  /** runPodSandbox creates and starts a pod's sandbox (pause container, network) and returns its id. */
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const res = await this.call<{ pod_sandbox_id: string }>(this.runtime, 'RunPodSandbox', { config, runtime_handler: runtimeHandler });
    return res.pod_sandbox_id;
  }

  /** stopPodSandbox stops a sandbox's containers and tears its network down; safe to repeat. */
  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', { pod_sandbox_id: podSandboxId });
  }

  /** removePodSandbox removes a stopped sandbox and its containers; safe to repeat. */
  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', { pod_sandbox_id: podSandboxId });
  }

  /** podSandboxStatus reports a sandbox; verbose adds the runtime's details (pid, netns, CNI result). */
  podSandboxStatus(podSandboxId: string, verbose = false): Promise<PodSandboxStatusResponse> {
    return this.call(this.runtime, 'PodSandboxStatus', { pod_sandbox_id: podSandboxId, verbose });
  }

  /** listPodSandbox lists the sandboxes that match filter. */
  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const res = await this.call<{ items: PodSandbox[] }>(this.runtime, 'ListPodSandbox', filter ? { filter } : {});
    return res.items;
  }

  /** createContainer creates a container in a sandbox and returns its id. */
  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const res = await this.call<{ container_id: string }>(this.runtime, 'CreateContainer', {
      pod_sandbox_id: podSandboxId,
      config,
      sandbox_config: sandboxConfig,
    });
    return res.container_id;
  }

  /** startContainer starts a created container. */
  async startContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'StartContainer', { container_id: containerId });
  }

  /** stopContainer stops a container: its stop signal, then SIGKILL after timeoutSeconds. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.call(this.runtime, 'StopContainer', { container_id: containerId, timeout: timeoutSeconds }, this.timeoutMs + timeoutSeconds * 1000);
  }

  /** removeContainer removes a container, stopping it first if it runs. */
  async removeContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'RemoveContainer', { container_id: containerId });
  }

  /** listContainerStats reports the CPU and memory use of the containers that match filter. */
  async listContainerStats(filter?: { id?: string; pod_sandbox_id?: string; label_selector?: Record<string, string> }): Promise<ContainerStats[]> {
    const res = await this.call<{ stats: ContainerStats[] }>(this.runtime, 'ListContainerStats', filter ? { filter } : {});
    return res.stats;
  }

  /** listContainers lists the containers that match filter. */
  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const res = await this.call<{ containers: Container[] }>(this.runtime, 'ListContainers', filter ? { filter } : {});
    return res.containers;
  }

  /** containerStatus reports a container; verbose adds the runtime's details in info. */
  containerStatus(containerId: string, verbose = false): Promise<{ status: ContainerStatus; info: Record<string, string> }> {
    return this.call(this.runtime, 'ContainerStatus', { container_id: containerId, verbose });
  }

  /** reopenContainerLog makes the runtime reopen a running container's log file (log rotation). */
  async reopenContainerLog(containerId: string): Promise<void> {
    await this.call(this.runtime, 'ReopenContainerLog', { container_id: containerId });
  }

  /** execSync runs cmd in a container to its end; past timeoutSeconds (0: none) the call fails
   * with DEADLINE_EXCEEDED rather than giving an exit code. */
  execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResponse> {
    const deadline = timeoutSeconds > 0 ? timeoutSeconds * 1000 + 5_000 : this.timeoutMs;
    return this.call(this.runtime, 'ExecSync', { container_id: containerId, cmd, timeout: timeoutSeconds }, deadline);
  }

  /** exec prepares a streaming exec and returns the runtime's stream URL (single use). */
  async exec(req: { container_id: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'Exec', req)).url;
  }

  /** attach prepares a streaming attach and returns the runtime's stream URL (single use). */
  async attach(req: { container_id: string; stdin?: boolean; tty?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'Attach', req)).url;
  }

  /** portForward prepares a port-forward into a sandbox and returns the runtime's stream URL. */
  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'PortForward', { pod_sandbox_id: podSandboxId, port: ports })).url;
  }

  /** imageStatus reports an image the runtime holds, or undefined when it holds none by that name. */
  async imageStatus(image: string | ImageSpec, verbose = false): Promise<Image | undefined> {
    const spec = typeof image === 'string' ? { image } : image;
    const res = await this.call<{ image: Image | null }>(this.image, 'ImageStatus', { image: spec, verbose });
    return res.image ?? undefined;
  }

  /** pullImage pulls an image from its registry (always: ask imageStatus first) and returns its ref. */
  async pullImage(image: string | ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const spec = typeof image === 'string' ? { image } : image;
    const res = await this.call<{ image_ref: string }>(this.image, 'PullImage', { image: spec, auth, sandbox_config: sandboxConfig });
    return res.image_ref;
  }

  /** listImages lists the images the runtime holds. */
  async listImages(filter?: ImageSpec): Promise<Image[]> {
    const res = await this.call<{ images: Image[] }>(this.image, 'ListImages', filter ? { filter: { image: filter } } : {});
    return res.images;
  }

  /** close closes the connection. */
  close(): void {
    this.image.close();
    this.runtime.close();
  }
}
