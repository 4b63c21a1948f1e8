// Authentication: every request carries a client certificate signed by the cluster CA or a bearer
// token from the token file (kube-apiserver's --client-ca-file and --token-auth-file). The result
// is a UserInfo that authorization (and later admission) sees.

import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  /** extra is more about the user (impersonated Impersonate-Extra-* values, token claims). */
  extra?: Record<string, string[]>;
  /** how the user authenticated, for logs and SelfSubjectReview. */
  via: 'x509' | 'token' | 'anonymous';
}

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
  ) {
    if (tokenFile) this.tokens = parseTokenFile(readFileSync(tokenFile, 'utf8'));
  }

  /** authenticate returns the user, or undefined for an anonymous request. */
  authenticate(req: IncomingMessage): UserInfo | undefined {
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
      const presented = Buffer.from(auth.slice(7).trim());
      for (const t of this.tokens) {
        if (t.token.length === presented.length && timingSafeEqual(t.token, presented)) {
          return { ...t.user, groups: [...t.user.groups, 'system:authenticated'] };
        }
      }
      const bootstrapUser = this.bootstrapTokens?.authenticate(auth.slice(7).trim());
      if (bootstrapUser) return bootstrapUser;
    }
    return undefined;
  }
}
