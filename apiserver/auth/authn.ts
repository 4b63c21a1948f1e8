// Authentication: every request carries a client certificate signed by the cluster CA, a bearer
// token from the token file (kube-apiserver's --client-ca-file and --token-auth-file), or a
// service-account token (a JWT from this apiserver's issuer, serviceaccount/tokens.ts). The
// result is a UserInfo that authorization (and later admission) sees.

import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { TokenRejectedError, type ServiceAccountTokenAuthenticator } from './serviceaccount/tokens.js';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  /** extra is more about the user (impersonated Impersonate-Extra-* values; a service account's pod and credential id). */
  extra?: Record<string, string[]>;
  /** how the user authenticated, for logs and SelfSubjectReview. */
  via: 'x509' | 'token' | 'anonymous' | 'serviceaccount';
}

/** TokenResult is a bearer token's answer: the user and the audiences matched, or why it is refused. */
export type TokenResult = { user: UserInfo; audiences: string[] } | { user?: undefined; error: string };

interface TokenEntry {
  token: Buffer;
  user: UserInfo;
}

/** parseTokenFile reads kube-apiserver's CSV token file: token,user,uid,"group1,group2". */
export function parseTokenFile(text: string): TokenEntry[] {
  const out: TokenEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = splitCSV(line);
    if (fields.length < 3) throw new Error('token file line has fewer than 3 fields');
    const [token, name, uid, groups] = fields;
    out.push({
      token: Buffer.from(token),
      user: { name, uid, groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [], via: 'token' },
    });
  }
  return out;
}

function splitCSV(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

/**
 * certUsers remembers the user a TLS connection's client certificate names: the certificate
 * cannot change during a connection, and getPeerCertificate() builds a fresh object on every
 * call (about 7% of the apiserver's CPU per create in the benchmark's profile).
 */
const certUsers = new WeakMap<TLSSocket, UserInfo>();

export class Authenticator {
  private tokens: TokenEntry[] = [];

  constructor(
    tokenFile?: string,
    /** bootstrapTokens authenticates `<id>.<secret>` bearer tokens the token file does not know (auth/bootstrap.ts). */
    private readonly bootstrapTokens?: { authenticate(bearer: string): UserInfo | undefined },
    /** serviceAccounts accepts service-account tokens (absent: none are accepted). */
    private readonly serviceAccounts?: ServiceAccountTokenAuthenticator,
  ) {
    if (tokenFile) this.tokens = parseTokenFile(readFileSync(tokenFile, 'utf8'));
  }

  /** authenticate returns the user, or undefined for an anonymous request or credentials that do not hold. */
  async authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const known = certUsers.get(sock);
      if (known) return { ...known, groups: [...known.groups] };
      const cert = sock.getPeerCertificate();
      if (cert && cert.subject) {
        const cn = cert.subject.CN;
        const o = cert.subject.O;
        const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
        if (cn) {
          const user: UserInfo = { name: Array.isArray(cn) ? cn[0] : cn, groups: [...groups, 'system:authenticated'], via: 'x509' };
          certUsers.set(sock, user);
          return { ...user, groups: [...user.groups] };
        }
      }
    }
    const auth = req.headers.authorization;
    if (auth && /^bearer /i.test(auth)) {
      const result = await this.authenticateToken(auth.slice(7).trim());
      return result.user;
    }
    return undefined;
  }

  /**
   * authenticateToken checks a bearer token against the token file, then as a service-account
   * token for audiences (default: the apiserver's). TokenReview asks the same question.
   */
  async authenticateToken(token: string, audiences?: string[]): Promise<TokenResult> {
    const presented = Buffer.from(token);
    for (const t of this.tokens) {
      if (t.token.length === presented.length && timingSafeEqual(t.token, presented)) {
        return { user: { ...t.user, groups: [...t.user.groups, 'system:authenticated'] }, audiences: audiences ?? this.serviceAccounts?.apiAudiences ?? [] };
      }
    }
    const bootstrapUser = this.bootstrapTokens?.authenticate(token);
    if (bootstrapUser) return { user: bootstrapUser, audiences: audiences ?? this.serviceAccounts?.apiAudiences ?? [] };
    if (this.serviceAccounts?.isOurs(token)) {
      try {
        const { user, audiences: matched } = await this.serviceAccounts.authenticate(token, audiences?.length ? audiences : undefined);
        return { user: { ...user, groups: [...user.groups, 'system:authenticated'], via: 'serviceaccount' }, audiences: matched };
      } catch (err) {
        // A lookup that fails (storage away) refuses the token too, as kube answers 401 then.
        if (err instanceof TokenRejectedError) return { error: err.message };
        return { error: `service account token could not be checked: ${(err as Error).message}` };
      }
    }
    return { error: 'invalid bearer token' };
  }
}
