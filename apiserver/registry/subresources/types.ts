// SubresourceStorage: one subresource of a kind served by code of its own, as k8s.io/apiserver's
// generic registry attaches BindingREST or EvictionREST to the pod storage. The HTTP handler finds
// one by what it supports (`serves`) and by verb; it knows no kind by name.

import type { KubeObject } from '../../../lib/api/meta.js';
import type { ResourceDefinition } from '../../../lib/api/resource.js';
import type { Status } from '../../../lib/machinery/status.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GenericStore, RequestContext } from '../store.js';
import type { APIRegistry } from '../registry.js';
import type { TokenSigner } from '../../auth/serviceaccount/tokens.js';

/**
 * KubeletClientConfig is how the apiserver reaches kubelets (--kubelet-client-certificate,
 * --kubelet-client-key, --kubelet-certificate-authority), PEM contents.
 */
export interface KubeletClientConfig {
  cert: Buffer;
  key: Buffer;
  /** ca verifies the kubelet's serving certificate; without it the certificate is not checked. */
  ca?: Buffer;
}

/** ConnectRequest is the raw HTTP exchange a connecting subresource (pods/exec, nodes/proxy…) serves. */
export interface ConnectRequest {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** rest is the path after the subresource (nodes/N/proxy/<rest>), for subresources that take one. */
  rest: string[];
  /** upgrade is the client's connection when the request asks for a protocol upgrade. */
  upgrade?: { socket: Duplex; head: Buffer };
}

/** SubresourceRequest is what a subresource sees of one request: the parent's store and the object it names. */
export interface SubresourceRequest {
  store: GenericStore;
  namespace: string | undefined;
  name: string;
  /** ctx carries the user and the time; dryRun is decided by the subresource (bodies may carry it too). */
  ctx: RequestContext;
  /** dryRun checks the query's dryRun values together with any a body carries. */
  dryRun(bodyValues?: string[]): boolean;
  /** registry finds other kinds' stores (the Node a pod runs on). */
  registry?: APIRegistry;
  /** kubelet is the apiserver's kubelet client configuration, when it has one. */
  kubelet?: KubeletClientConfig;
  /** tokenSigner signs service-account tokens (serviceaccounts/token), when the apiserver has a key. */
  tokenSigner?: TokenSigner;
}

/** SubresourceResult is an answer: an object of the parent kind (rendered as the client asked), or any other body as JSON. */
export type SubresourceResult = { code: number; object: KubeObject } | { code: number; body: KubeObject | Status | Record<string, unknown> };

/** SubresourceStorage serves one subresource; each verb it supports is one method. */
export interface SubresourceStorage {
  /** subresource is the path segment (`binding`, `eviction`, `finalize`). */
  readonly subresource: string;
  /** serves says whether a kind has this subresource. */
  serves(def: ResourceDefinition): boolean;
  /** kind is what discovery lists for it: the kind its requests take (and its group/version when not the parent's). */
  readonly kind: { kind: string; group?: string; version?: string };
  /**
   * bodyIsParent says that a write's body is an object of the parent kind, so it gets the
   * parent's field validation (namespaces/finalize takes a Namespace).
   */
  readonly bodyIsParent?: boolean;
  /** bodyName names what a write's body must be, for the error when it is not an object (`an Eviction`). */
  readonly bodyName?: string;
  /** create serves POST with the decoded body. */
  create?(req: SubresourceRequest, body: Record<string, unknown>): Promise<SubresourceResult>;
  /** update serves PUT with the decoded body. */
  update?(req: SubresourceRequest, body: Record<string, unknown>): Promise<SubresourceResult>;
  /** get serves GET. */
  get?(req: SubresourceRequest): Promise<SubresourceResult>;
  /**
   * connect serves the request itself, any method, body and answer streamed (kube's
   * rest.Connecter: pods/log, pods/exec, nodes/proxy); connectVerbs are the API verbs it takes.
   */
  connect?(req: SubresourceRequest, conn: ConnectRequest): Promise<void>;
  readonly connectVerbs?: readonly string[];
  /** acceptsPath says that the subresource takes a path after its name (nodes/N/proxy/healthz). */
  readonly acceptsPath?: boolean;
}

/** subresourceVerbs are the API verbs a SubresourceStorage serves, from the methods it has. */
export function subresourceVerbs(s: SubresourceStorage): string[] {
  if (s.connectVerbs) return [...s.connectVerbs];
  return (['create', 'get', 'update'] as const).filter((verb) => s[verb] !== undefined);
}
