// ClientConfig reads a kubeconfig the way kubectl does, for skiff's own long-running processes:
// they need its current cluster and user and nothing else, and loading @kubernetes/client-node
// for that cost every one of them about half a second of CPU and 35-90 MiB of memory at start.
//
// ClusterAccess is the part of a kubeconfig the rest of lib/client uses. client-node's KubeConfig
// has the same shape, so the test kit and the examples can keep handing theirs to a RestClient,
// an informer or leader election.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** Cluster is a kubeconfig's cluster entry, with client-node's field names. */
export interface Cluster {
  readonly name: string;
  /** server is the apiserver URL without a trailing slash. */
  readonly server: string;
  /** caData is the base64 of the CA bundle (certificate-authority-data). */
  readonly caData?: string;
  /** caFile is the CA bundle's path (certificate-authority), absolute once loaded from a file. */
  readonly caFile?: string;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName?: string;
}

/** User is a kubeconfig's user entry: a client certificate, a bearer token, or both. */
export interface User {
  readonly name: string;
  /** certData and keyData are base64 PEM (client-certificate-data, client-key-data). */
  readonly certData?: string;
  readonly certFile?: string;
  readonly keyData?: string;
  readonly keyFile?: string;
  readonly token?: string;
  /** tokenFile is read on every applyToHTTPSOptions, so a rotated token is picked up. */
  readonly tokenFile?: string;
  /** impersonateUser is `as`: sent as the Impersonate-User header. */
  readonly impersonateUser?: string;
}

/** Context pairs a cluster with a user. */
export interface Context {
  readonly name: string;
  readonly cluster: string;
  readonly user?: string;
  readonly namespace?: string;
}

/**
 * ClusterAccess is what a client needs of a kubeconfig: where the apiserver is, and the TLS
 * options and headers that authenticate to it. Both ClientConfig and client-node's KubeConfig
 * satisfy it.
 */
export interface ClusterAccess {
  getCurrentCluster(): Cluster | null;
  /** applyToHTTPSOptions sets the CA, client certificate, TLS checks and auth headers on opts. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** ClientConfigOptions are a kubeconfig's entries as loaded (client-node's loadFromOptions). */
export interface ClientConfigOptions {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
}

/** KubeconfigError is a kubeconfig that cannot be used: unreadable, or its current context does not resolve. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** ClientConfig is one loaded kubeconfig; its current context names the cluster and user requests go to. */
export class ClientConfig implements ClusterAccess {
  /** clusters is mutable: a caller may point the config at another server (joincontrolplane.ts does). */
  clusters: Cluster[] = [];
  users: User[] = [];
  contexts: Context[] = [];
  currentContext = '';
  /** agents are kept per protocol, as client-node keeps one per cluster and user: see agentFor. */
  private readonly agents = new Map<string, http.Agent>();

  /** loadFromFile loads path; relative file references in it are taken from path's directory, as kubectl does. */
  loadFromFile(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new KubeconfigError(`kubeconfig ${path}: ${(err as Error).message}`);
    }
    this.load(text, dirname(path), path);
  }

  /** loadFromString loads a kubeconfig's text; relative file references stay relative to the working directory. */
  loadFromString(text: string): void {
    this.load(text, undefined, 'kubeconfig');
  }

  /** loadFromOptions takes already parsed entries (tokenKubeConfig builds one this way). */
  loadFromOptions(opts: ClientConfigOptions): void {
    this.clusters = [...opts.clusters];
    this.users = [...opts.users];
    this.contexts = [...opts.contexts];
    this.currentContext = opts.currentContext;
    this.agents.clear();
    this.resolveCurrent('kubeconfig');
  }

  getCurrentContext(): Context | null {
    return this.contexts.find((c) => c.name === this.currentContext) ?? null;
  }

  getCurrentCluster(): Cluster | null {
    const ctx = this.getCurrentContext();
    return ctx ? this.clusters.find((c) => c.name === ctx.cluster) ?? null : null;
  }

  getCurrentUser(): User | null {
    const ctx = this.getCurrentContext();
    return ctx?.user ? this.users.find((u) => u.name === ctx.user) ?? null : null;
  }

  /**
   * applyToHTTPSOptions sets on opts what client-node's does for certificate and token users: ca,
   * cert and key (files read now), rejectUnauthorized false for insecure-skip-tls-verify,
   * servername for tls-server-name, an `Authorization: Bearer` header for a token (a token file
   * read now), and an agent without keep-alive kept for this config.
   */
  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new KubeconfigError(`kubeconfig: current context "${this.currentContext}" does not name a cluster`);
    const user = this.getCurrentUser();
    if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
    if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
    const ca = fileOrData(cluster.caFile, cluster.caData);
    if (ca) opts.ca = ca;
    const cert = fileOrData(user?.certFile, user?.certData);
    if (cert) opts.cert = cert;
    const key = fileOrData(user?.keyFile, user?.keyData);
    if (key) opts.key = key;
    const headers = (opts.headers ??= {}) as Record<string, string | string[] | number | undefined>;
    if (user?.impersonateUser) headers['Impersonate-User'] = user.impersonateUser;
    const token = user?.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : user?.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    opts.agent = this.agentFor(cluster.server, opts);
  }

  /**
   * agentFor is this config's agent for server's protocol, made with the first options applied.
   * Like client-node's, it does not keep connections alive: a watch that ends (the server's
   * timeout) reconnects on a fresh connection rather than on one the server may be closing.
   */
  private agentFor(server: string, opts: https.RequestOptions): http.Agent {
    const protocol = server.startsWith('http:') ? 'http:' : 'https:';
    let agent = this.agents.get(protocol);
    if (!agent) {
      agent = protocol === 'http:'
        ? new http.Agent()
        : new https.Agent({ ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername });
      this.agents.set(protocol, agent);
    }
    return agent;
  }

  private load(text: string, dir: string | undefined, source: string): void {
    let doc: RawKubeconfig;
    try {
      doc = (parse(text) ?? {}) as RawKubeconfig;
    } catch (err) {
      // The parser's message quotes the offending line, which may hold a token or a key: say only where.
      const at = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
      const code = (err as { code?: string }).code ?? 'parse error';
      throw new KubeconfigError(`${source}: not YAML (${code}${at ? ` at line ${at.line}, column ${at.col}` : ''})`);
    }
    if (typeof doc !== 'object') throw new KubeconfigError(`${source}: not a kubeconfig (want a mapping with clusters, users and contexts)`);
    const path = (p: string | undefined) => (p && dir && !isAbsolute(p) ? join(dir, p) : p || undefined);
    this.clusters = (doc.clusters ?? []).map((c, i) => {
      if (!c?.name) throw new KubeconfigError(`${source}: clusters[${i}].name is missing`);
      const server = c.cluster?.server;
      if (!server) throw new KubeconfigError(`${source}: clusters[${i}] (${c.name}): cluster.server is missing`);
      return {
        name: c.name,
        server: server.replace(/\/$/, ''),
        caData: c.cluster?.['certificate-authority-data'] || undefined,
        caFile: path(c.cluster?.['certificate-authority']),
        skipTLSVerify: c.cluster?.['insecure-skip-tls-verify'] === true,
        tlsServerName: c.cluster?.['tls-server-name'] || undefined,
      };
    });
    this.users = (doc.users ?? []).map((u, i) => {
      if (!u?.name) throw new KubeconfigError(`${source}: users[${i}].name is missing`);
      const raw = u.user ?? {};
      // Refuse what skiff cannot send rather than send no credentials and meet 401s later.
      for (const unsupported of ['exec', 'auth-provider', 'username'] as const) {
        if (raw[unsupported] != null) throw new KubeconfigError(`${source}: user "${u.name}" uses ${unsupported}, which skiff's components do not support (use a client certificate or a token)`);
      }
      return {
        name: u.name,
        certData: raw['client-certificate-data'] || undefined,
        certFile: path(raw['client-certificate']),
        keyData: raw['client-key-data'] || undefined,
        keyFile: path(raw['client-key']),
        token: raw.token || undefined,
        tokenFile: path(raw.tokenFile),
        impersonateUser: raw.as || undefined,
      };
    });
    this.contexts = (doc.contexts ?? []).map((c, i) => {
      if (!c?.name) throw new KubeconfigError(`${source}: contexts[${i}].name is missing`);
      if (!c.context?.cluster) throw new KubeconfigError(`${source}: contexts[${i}] (${c.name}): context.cluster is missing`);
      return { name: c.name, cluster: c.context.cluster, user: c.context.user || undefined, namespace: c.context.namespace || undefined };
    });
    this.currentContext = doc['current-context'] ?? '';
    this.agents.clear();
    this.resolveCurrent(source);
  }

  /** resolveCurrent checks that the current context, its cluster and its user exist, so a bad file fails at load with a clear reason. */
  private resolveCurrent(source: string): void {
    if (!this.currentContext) throw new KubeconfigError(`${source}: current-context is not set`);
    const ctx = this.getCurrentContext();
    if (!ctx) throw new KubeconfigError(`${source}: current-context "${this.currentContext}" is not among the contexts (${names(this.contexts)})`);
    if (!this.getCurrentCluster()) throw new KubeconfigError(`${source}: context "${ctx.name}" names cluster "${ctx.cluster}", which is not among the clusters (${names(this.clusters)})`);
    if (ctx.user && !this.getCurrentUser()) throw new KubeconfigError(`${source}: context "${ctx.name}" names user "${ctx.user}", which is not among the users (${names(this.users)})`);
  }
}

/** loadClientConfig is a ClientConfig loaded from the kubeconfig file at path. */
export function loadClientConfig(path: string): ClientConfig {
  const kc = new ClientConfig();
  kc.loadFromFile(path);
  return kc;
}

/** RawKubeconfig is a kubeconfig file as YAML gives it, before any check. */
interface RawKubeconfig {
  clusters?: Array<{ name?: string; cluster?: { server?: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean; 'tls-server-name'?: string } }>;
  users?: Array<{ name?: string; user?: Record<string, string | undefined> & { exec?: unknown; 'auth-provider'?: unknown } }>;
  contexts?: Array<{ name?: string; context?: { cluster?: string; user?: string; namespace?: string } }>;
  'current-context'?: string;
}

/** fileOrData reads file when set, else decodes base64 data (client-node's bufferFromFileOrString). */
function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

function names(list: ReadonlyArray<{ name: string }>): string {
  return list.length ? list.map((x) => `"${x.name}"`).join(', ') : 'none';
}
