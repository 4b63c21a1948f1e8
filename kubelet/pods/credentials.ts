// Registry credentials from a pod's imagePullSecrets, as the kubelet's credential keyring
// (pkg/credentialprovider) finds them: each `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`,
// `{"auths": {KEY: ENTRY}}`) or `kubernetes.io/dockercfg` (`.dockercfg`, `{KEY: ENTRY}`) secret
// gives entries keyed by a registry URL; an entry's `auth` (base64 "user:password") is decoded
// into its username and password. An image matches a key when the hosts match part by part (glob
// parts like `*.example.com` allowed), the ports are equal and the key's path is a prefix of the
// image's repository path. Docker Hub's names (docker.io, index.docker.io, registry-1.docker.io,
// `https://index.docker.io/v1/`) are one registry, the default for an image without a host. The
// most specific keys come first; PullImage tries each matching credential in turn.

import { type Secret, secretValue } from '../../lib/api/core/secret.js';
import type { AuthConfig } from '../cri/types.js';

const DockerConfigJsonType = 'kubernetes.io/dockerconfigjson';
const DockerConfigType = 'kubernetes.io/dockercfg';
const dockerHub = 'docker.io';
const dockerHubAliases = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
}

interface Location {
  host: string;
  port: string;
  path: string;
}

/** imageLocation is where an image reference lives: registry host, port and repository path (tag and digest dropped). */
export function imageLocation(image: string): Location {
  let ref = image.split('@')[0]!;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  const first = parts[0]!;
  const hasHost = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasHost) return { host: dockerHub, port: '', path: `/${parts.length === 1 ? 'library/' : ''}${ref}` };
  const [host, port = ''] = first.split(':');
  const canonical = dockerHubAliases.has(host!.toLowerCase()) ? dockerHub : host!.toLowerCase();
  return { host: canonical, port, path: `/${parts.slice(1).join('/')}` };
}

/** keyLocation parses a keyring key (`https://host:port/path`, `host/path`, …); Docker Hub's keys lose their `/v1/` path. */
function keyLocation(key: string): Location | undefined {
  const rest = key.trim().replace(/^[a-z]+:\/\//i, '');
  if (!rest) return undefined;
  const slash = rest.indexOf('/');
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash).replace(/\/+$/, '');
  const [host, port = ''] = hostPort.toLowerCase().split(':');
  if (!host) return undefined;
  if (dockerHubAliases.has(host)) return { host: dockerHub, port, path: path === '/v1' || path === '/v2' ? '' : path };
  return { host, port, path };
}

/** globPart matches one dot-separated host part against a glob part (`*`, `?`, `[…]` as filepath.Match). */
function globPart(glob: string, part: string): boolean {
  if (!/[*?[]/.test(glob)) return glob === part;
  const re = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]');
  try {
    return new RegExp(`^${re}$`).test(part);
  } catch {
    return false;
  }
}

/** keyMatches says whether a keyring key covers the image's location. */
function keyMatches(key: Location, image: Location): boolean {
  const kp = key.host.split('.');
  const ip = image.host.split('.');
  if (kp.length !== ip.length || !kp.every((g, i) => globPart(g, ip[i]!))) return false;
  if (key.port !== image.port) return false;
  return key.path === '' || image.path === key.path || image.path.startsWith(`${key.path}/`);
}

/** secretEntries reads a pull secret's entries by key; other types, and unreadable data, give none. */
function secretEntries(secret: Secret): [string, DockerConfigEntry][] {
  try {
    if (secret.type === DockerConfigJsonType) {
      const raw = secretValue(secret, '.dockerconfigjson');
      if (!raw?.length) return [];
      const auths = (JSON.parse(raw.toString('utf8')) as { auths?: Record<string, DockerConfigEntry> }).auths ?? {};
      return Object.entries(auths);
    }
    if (secret.type === DockerConfigType) {
      const raw = secretValue(secret, '.dockercfg');
      if (!raw?.length) return [];
      return Object.entries(JSON.parse(raw.toString('utf8')) as Record<string, DockerConfigEntry>);
    }
  } catch {
    return [];
  }
  return [];
}

/** entryAuth is a keyring entry as CRI's AuthConfig; `auth` is decoded into username and password (it wins, as docker's config does). */
function entryAuth(key: string, e: DockerConfigEntry): AuthConfig {
  let username = e.username ?? '';
  let password = e.password ?? '';
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  return { username, password, server_address: key };
}

/**
 * pullCredentials are the credentials of the pod's pull secrets that match the image, most
 * specific key first (the keyring's reverse order of keys), in the secrets' order for equal keys.
 * None: the image is pulled without credentials.
 */
export function pullCredentials(image: string, secrets: Secret[]): AuthConfig[] {
  const target = imageLocation(image);
  const found: { key: string; auth: AuthConfig }[] = [];
  for (const secret of secrets) {
    for (const [key, entry] of secretEntries(secret)) {
      const loc = keyLocation(key);
      if (!loc || !entry || typeof entry !== 'object' || !keyMatches(loc, target)) continue;
      found.push({ key: `${loc.host}${loc.port ? `:${loc.port}` : ''}${loc.path}`, auth: entryAuth(key, entry) });
    }
  }
  // A stable sort: longer, more specific keys first.
  return found.sort((a, b) => (a.key === b.key ? 0 : a.key < b.key ? 1 : -1)).map((f) => f.auth);
}
