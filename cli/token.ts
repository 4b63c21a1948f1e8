// `skiff token create|list|delete`: bootstrap tokens (kubeadm token), the credential another
// machine joins the cluster with. create stores a kube-system Secret bootstrap-token-<id>, makes
// sure the kube-public cluster-info ConfigMap exists (the controller manager's bootstrap signer
// signs it with every token), and prints the `skiff join` command with the CA's public key hash.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ConfigMap } from '../lib/api/core/configmap.js';
import {
  bootstrapTokenNamespace,
  bootstrapTokenSecretType,
  caCertHash,
  clusterInfoName,
  clusterInfoNamespace,
  descriptionKey,
  expiration,
  expirationKey,
  extraGroups,
  extraGroupsKey,
  generateToken,
  isTokenID,
  kubeadmDefaultNodeTokenGroup,
  kubeconfigKey,
  parseToken,
  secretName,
  secretValue,
  tokenIDKey,
  tokenSecretKey,
  usageAuthentication,
  usagePrefix,
  usageSigning,
  type TokenSecret,
} from '../lib/bootstraptoken.js';
import { isAlreadyExists, isNotFound, RestClient } from '../lib/client/client.js';
import { ConfigMaps, Secrets } from '../lib/client/resources.js';
import { parseDuration } from '../lib/machinery/duration.js';
import { stringify } from 'yaml';
import { clusterPaths, type ClusterConfig } from '../lib/process/components.js';
import { loadConfig } from '../lib/process/cluster.js';
import { newCertificateKey, parseCertificateKey } from '../lib/controlplanejoin.js';
import { publishClusterConfig, uploadCerts } from '../lib/process/uploadcerts.js';
import { homeFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Manage bootstrap tokens, the credentials other machines join the cluster with.

Usage:
  skiff token create [--ttl 24h] [--description TEXT] [--control-plane | --certificate-key KEY]
  skiff token list
  skiff token delete TOKEN-ID|TOKEN ...

create prints the command to run on the joining machine:
  skiff join https://<apiserver>:<port> --token <id>.<secret> --discovery-token-ca-cert-hash sha256:<hash>
and publishes kube-system/kubeadm-config (the cluster's ranges and control-plane members), which
a bootstrap token may read. With --control-plane it also uploads the control plane's CA keys,
sealed under a new certificate key (skiff certs upload), and prints the command that joins
another machine as a control-plane member:
  skiff join … --control-plane --certificate-key <key>

Flags:
      --home DIR          cluster home (env SKIFF_HOME, default ~/.skiff)
      --ttl DURATION      how long the token is valid (default 24h; 0 never expires)
      --description TEXT  what the token is for (shown by list)
      --control-plane     upload the certificates with a new key and print a control-plane join
      --certificate-key KEY
                          print a control-plane join with this key (certificates uploaded with it by skiff certs upload)
  -h, --help              show this help
`;

const options = { ...homeFlag, ttl: { type: 'string' }, description: { type: 'string' }, 'control-plane': { type: 'boolean' }, 'certificate-key': { type: 'string' } } as const;

/** joinEndpoint is the apiserver address another machine joins through: the load balancer's, with several members. */
export function joinEndpoint(config: ClusterConfig): string {
  const wildcard = config.bindAddress === '0.0.0.0' || config.bindAddress === '::' || config.bindAddress === '';
  return `https://${wildcard ? config.advertiseAddress : config.bindAddress}:${config.apiserverPort}`;
}

/** clusterInfoKubeconfig is cluster-info's kubeconfig, as kubeadm writes it: one unnamed cluster, its server and CA, no user. */
export function clusterInfoKubeconfig(server: string, caPEM: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: '', cluster: { 'certificate-authority-data': Buffer.from(caPEM).toString('base64'), server } }],
    contexts: null,
    'current-context': '',
    preferences: {},
    users: null,
  });
}

/** shortHumanDuration is apimachinery's ShortHumanDuration, the TTL column of kubeadm token list. */
export function shortHumanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 86400 * 365) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / (86400 * 365))}y`;
}

/** clientFor is an admin client of the cluster in home, and its config. */
export function clientFor(home: string): { client: RestClient; config: ClusterConfig } {
  const config = loadConfig(home);
  if (!config) throw new Error(`${home} is not a skiff home (no cluster.json); run skiff up`);
  const kc = new KubeConfig();
  kc.loadFromFile(clusterPaths(home).adminKubeconfig);
  return { client: new RestClient(kc, { userAgent: 'skiff-token' }), config };
}

async function create(home: string, ttl: string | undefined, description: string | undefined, controlPlane: { upload: boolean; key?: string }): Promise<number> {
  let ttlMs: number;
  try {
    ttlMs = ttl === undefined ? 24 * 3600_000 : ttl === '0' ? 0 : parseDuration(ttl);
  } catch (err) {
    throw new UsageError(`invalid value "${ttl}" for --ttl: ${(err as Error).message}`);
  }
  if (ttlMs < 0) throw new UsageError(`invalid value "${ttl}" for --ttl: must not be negative`);
  const { client, config } = clientFor(home);
  const caPEM = readFileSync(join(clusterPaths(home).pki, 'ca.crt'), 'utf8');
  const endpoint = joinEndpoint(config);
  // cluster-info first: a token is of no use to a joiner before there is something to sign.
  try {
    await client.create<ConfigMap>(ConfigMaps, clusterInfoNamespace, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: clusterInfoName, namespace: clusterInfoNamespace },
      data: { [kubeconfigKey]: clusterInfoKubeconfig(endpoint, caPEM) },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const token = generateToken();
  const data: Record<string, string> = {
    [tokenIDKey]: token.id,
    [tokenSecretKey]: token.secret,
    [usageAuthentication]: 'true',
    [usageSigning]: 'true',
    [extraGroupsKey]: kubeadmDefaultNodeTokenGroup,
  };
  if (ttlMs > 0) data[expirationKey] = new Date(Math.floor((Date.now() + ttlMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  if (description) data[descriptionKey] = description;
  await client.create(Secrets, bootstrapTokenNamespace, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: bootstrapTokenSecretType,
    metadata: { name: secretName(token.id), namespace: bootstrapTokenNamespace },
    stringData: data,
  });
  await publishClusterConfig(client, config, endpoint);
  let extra = '';
  if (controlPlane.upload || controlPlane.key) {
    const key = controlPlane.key ?? newCertificateKey();
    if (controlPlane.upload) await uploadCerts(client, home, key);
    extra = ` --control-plane --certificate-key ${key}`;
  }
  process.stdout.write(`skiff join ${endpoint} --token ${token.id}.${token.secret} --discovery-token-ca-cert-hash ${caCertHash(caPEM)}${extra}\n`);
  return 0;
}

async function list(home: string): Promise<number> {
  const { client } = clientFor(home);
  const secrets = await client.list<TokenSecret>(Secrets, bootstrapTokenNamespace, { fieldSelector: `type=${bootstrapTokenSecretType}` });
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  const now = Date.now();
  for (const s of secrets.items) {
    const id = secretValue(s, tokenIDKey) ?? '';
    const secret = secretValue(s, tokenSecretKey) ?? '';
    if (!parseToken(`${id}.${secret}`)) continue;
    const at = expiration(s);
    const usages = Object.keys(s.data ?? {})
      .filter((k) => k.startsWith(usagePrefix) && secretValue(s, k) === 'true')
      .map((k) => k.slice(usagePrefix.length))
      .sort();
    const groups = extraGroups(s);
    rows.push([
      `${id}.${secret}`,
      at === undefined ? '<forever>' : at <= now ? '<invalid>' : shortHumanDuration(at - now),
      at === undefined ? '<never>' : new Date(at).toISOString().replace('.000Z', 'Z'),
      usages.join(',') || '<none>',
      secretValue(s, descriptionKey) || '<none>',
      groups instanceof Error ? '<invalid>' : groups.join(',') || '<none>',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n');
  return 0;
}

async function remove(home: string, args: string[]): Promise<number> {
  if (args.length === 0) throw new UsageError('missing subcommand; "token delete" is missing token');
  const { client } = clientFor(home);
  let failed = false;
  for (const arg of args) {
    const id = parseToken(arg)?.id ?? (isTokenID(arg) ? arg : undefined);
    if (!id) throw new UsageError(`given token didn't match pattern "[a-z0-9]{6}" or "[a-z0-9]{6}\\.[a-z0-9]{16}"`);
    try {
      await client.delete(Secrets, bootstrapTokenNamespace, secretName(id));
      process.stdout.write(`bootstrap token "${id}" deleted\n`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      process.stderr.write(`error: bootstrap token "${id}" not found\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

async function token(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, options, true);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const home = resolveHome(values.home);
  const [sub, ...rest] = positionals;
  let code: number;
  switch (sub) {
    case 'create':
      if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
      if (values['certificate-key'] !== undefined) {
        try {
          parseCertificateKey(values['certificate-key']);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }
      code = await create(home, values.ttl, values.description, { upload: values['control-plane'] === true, key: values['certificate-key'] });
      break;
    case 'list':
      code = await list(home);
      break;
    case 'delete':
      code = await remove(home, rest);
      break;
    default:
      throw new UsageError(sub === undefined ? 'missing subcommand: create, list or delete' : `unknown subcommand "${sub}" (create, list or delete)`);
  }
  // The client's keep-alive sockets would hold the process a while longer.
  process.exit(code);
}

/** tokenCommand is `skiff token`. */
export const tokenCommand: CommandSpec = { name: 'token', summary: 'Create, list and delete bootstrap tokens', usage, run: token };
