// ServiceAccountClientBuilder gives a component's parts clients that authenticate as
// ServiceAccounts, with tokens from the TokenRequest API (client-go's
// DynamicControllerClientBuilder, which kube-controller-manager uses for
// --use-service-account-credentials): the account is made when it is missing, its token is bound
// to no object, and a new token is requested before 80% of the old one's lifetime has passed.

import type { ServiceAccount } from '../api/core/serviceaccount.js';
import type { Logger } from '../log.js';
import { ApiError, type Client, RestClient, isAlreadyExists, isNotFound } from './client.js';
import { ClientConfig, type ClusterAccess, KubeconfigError } from './kubeconfig.js';
import { ServiceAccounts } from './resources.js';

/** defaultTokenExpirationSeconds is the lifetime asked for (client-go's clientbuilder asks for an hour). */
export const defaultTokenExpirationSeconds = 3600;
/** refreshFraction of a token's lifetime passes before a new one is requested (client-go's 20% leeway). */
const refreshFraction = 0.8;
/** retryMs is how soon a failed token request is tried again (while the old token may still be good). */
const retryMs = 5_000;

/** ServiceAccountClientOptions configure the builder. */
export interface ServiceAccountClientOptions {
  /** namespace of the accounts (kube-system). */
  namespace: string;
  log: Logger;
  /** signal stops every refresh. */
  signal: AbortSignal;
  /** expirationSeconds is the token lifetime requested (default one hour). */
  expirationSeconds?: number;
  /** userAgent and maxSockets are the RestClient's. */
  userAgent?: string;
  maxSockets?: number;
}

/** TokenRequestAnswer is the part of an authentication.k8s.io/v1 TokenRequest the builder reads: its status. */
interface TokenRequestAnswer {
  status?: { token?: string; expirationTimestamp?: string };
}

/** ServiceAccountClientBuilder makes clients that act as ServiceAccounts of one namespace; root is the builder's own identity. */
export class ServiceAccountClientBuilder {
  constructor(
    private readonly root: Client,
    private readonly kubeConfig: ClusterAccess,
    private readonly opts: ServiceAccountClientOptions,
  ) {}

  /**
   * clientFor ensures the ServiceAccount `name` and returns a Client that sends its token. It
   * resolves once the first token is there; a 401 answer (the account was deleted, the token
   * revoked) makes the client fetch a new token and send the request once more.
   */
  async clientFor(name: string): Promise<Client> {
    const source = new TokenSource(name, this.root, this.kubeConfig, this.opts);
    // Until the first token is there, keep trying (the apiserver may still be starting).
    for (let delay = 200; ; delay = Math.min(delay * 2, retryMs)) {
      try {
        await source.refresh();
        break;
      } catch (err) {
        if (this.opts.signal.aborted) throw err;
        this.opts.log.warn('Could not get a service account token', { serviceAccount: `${this.opts.namespace}/${name}`, err: (err as Error).message, retryMs: delay });
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
    source.scheduleRefresh();
    return source.client();
  }
}

/** TokenSource keeps one account's current token and the RestClient that sends it. */
class TokenSource {
  private current?: RestClient;
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<void>;
  private nextRefreshMs = 0;
  private readonly log: Logger;

  constructor(
    private readonly name: string,
    private readonly root: Client,
    private readonly kubeConfig: ClusterAccess,
    private readonly opts: ServiceAccountClientOptions,
  ) {
    this.log = opts.log.with({ serviceAccount: `${opts.namespace}/${name}` });
    opts.signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
  }

  /** refresh ensures the account and requests a token; concurrent callers share one request. */
  refresh(): Promise<void> {
    this.inflight ??= this.requestToken().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** scheduleRefresh requests the next token at 80% of this one's lifetime, or soon after a failure. */
  scheduleRefresh(): void {
    if (this.opts.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.refresh().then(
        () => this.scheduleRefresh(),
        (err: unknown) => {
          this.log.warn('Could not refresh the service account token', { err: (err as Error).message, retryMs });
          this.nextRefreshMs = Date.now() + retryMs;
          this.scheduleRefresh();
        },
      );
    }, Math.max(0, this.nextRefreshMs - Date.now()));
    this.timer.unref();
  }

  private async requestToken(): Promise<void> {
    const { namespace } = this.opts;
    await this.ensureServiceAccount();
    const started = Date.now();
    const answer = await this.root.create<unknown, TokenRequestAnswer>(
      ServiceAccounts,
      namespace,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: this.opts.expirationSeconds ?? defaultTokenExpirationSeconds } },
      { subresource: 'token', name: this.name },
    );
    const token = answer.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${this.name} answered no token`);
    const expires = Date.parse(answer.status?.expirationTimestamp ?? '');
    const lifetimeMs = Number.isFinite(expires) ? expires - started : (this.opts.expirationSeconds ?? defaultTokenExpirationSeconds) * 1000;
    this.nextRefreshMs = started + Math.max(1_000, lifetimeMs * refreshFraction);
    this.current = new RestClient(tokenKubeConfig(this.kubeConfig, `${namespace}/${this.name}`, token), { userAgent: this.opts.userAgent, maxSockets: this.opts.maxSockets });
    this.log.v(2).info('Got service account token', { expires: answer.status?.expirationTimestamp });
  }

  /** ensureServiceAccount creates the account when it is missing (kube's getOrCreateServiceAccount). */
  private async ensureServiceAccount(): Promise<void> {
    const { namespace } = this.opts;
    try {
      await this.root.get<ServiceAccount>(ServiceAccounts, namespace, this.name);
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await this.root.create<ServiceAccount>(ServiceAccounts, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: this.name, namespace } });
      this.log.info('Created service account');
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /**
   * client is a Client whose every call goes to the current RestClient. It forwards by name, so
   * every method of Client (and any added later) is covered; an answer of 401 is retried once
   * with a fresh token.
   */
  client(): Client {
    return new Proxy({} as Client, {
      get: (_target, prop) => {
        const method = (this.current as unknown as Record<PropertyKey, unknown>)[prop];
        if (typeof method !== 'function') return method;
        return async (...args: unknown[]) => {
          try {
            return await (this.current as unknown as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args);
          } catch (err) {
            if (!(err instanceof ApiError) || err.status.code !== 401) throw err;
            await this.refresh();
            this.scheduleRefresh();
            return await (this.current as unknown as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args);
          }
        };
      },
    });
  }
}

/** tokenKubeConfig is kc's current cluster with a user that sends token (no client certificate). */
export function tokenKubeConfig(kc: ClusterAccess, userName: string, token: string): ClientConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError('kubeconfig has no current cluster');
  const out = new ClientConfig();
  out.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: cluster.skipTLSVerify, tlsServerName: cluster.tlsServerName }],
    users: [{ name: userName, token }],
    contexts: [{ name: userName, cluster: cluster.name, user: userName }],
    currentContext: userName,
  });
  return out;
}
