// `skiff user add NAME [--group G]…`: a new user with a client certificate from the cluster CA,
// obtained the way Kubernetes documents it: a key and a CSR made here, a
// CertificateSigningRequest for kubernetes.io/kube-apiserver-client, approved as the admin and
// signed by the controller manager. The user gets a kubeconfig and no rights: a RoleBinding or
// ClusterRoleBinding gives them.

import { KubeConfig } from '@kubernetes/client-node';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CertificateSigningRequest, csrCondition } from '../lib/api/certificates/certificatesigningrequest.js';
import { RestClient } from '../lib/client/client.js';
import { CertificateSigningRequests } from '../lib/client/resources.js';
import { parseDuration } from '../lib/machinery/duration.js';
import { writeKubeconfig } from '../lib/kubeconfig.js';
import { contextFor, defaultConfig, loadConfig } from '../lib/process/cluster.js';
import { apiserverURL } from '../lib/process/components.js';
import { newKeyAndCSR } from '../lib/pki.js';
import { homeFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Manage the users of a skiff cluster.

Usage:
  skiff user add NAME [flags]

Makes a private key and a certificate signing request for NAME, has the cluster CA sign it
(a CertificateSigningRequest for kubernetes.io/kube-apiserver-client, approved as the admin) and
writes $SKIFF_HOME/users/NAME.kubeconfig. The user can do nothing until a binding grants it rights.

Flags:
      --home DIR             cluster home (env SKIFF_HOME, default ~/.skiff)
  -g, --group G              a group the user is in (the certificate's O); repeatable
      --expiration DURATION  the certificate's lifetime, e.g. 24h (default: the signer's, one year)
      --timeout DURATION     how long to wait for the certificate (default 60s)
  -h, --help                 show this help
`;

/** userNamePattern keeps NAME usable as a file name and in the CSR's object name. */
const userNamePattern = /^[a-z0-9]([-a-z0-9.@_]*[a-z0-9])?$/;

async function user(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { ...homeFlag, group: { type: 'string', short: 'g', multiple: true }, expiration: { type: 'string' }, timeout: { type: 'string' } } as const,
    true,
  );
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [verb, name, ...extra] = positionals;
  if (verb !== 'add') throw new UsageError(verb === undefined ? 'expected a subcommand: add' : `unknown subcommand "${verb}" (known: add)`);
  if (!name || extra.length) throw new UsageError('expected exactly one user name');
  if (!userNamePattern.test(name)) throw new UsageError(`invalid user name "${name}": lower-case letters, digits and - . @ _, starting and ending with a letter or digit`);
  const groups = values.group ?? [];
  for (const g of groups) {
    if (!g) throw new UsageError('a --group may not be empty');
    if (g === 'system:masters' || g.startsWith('system:')) throw new UsageError(`group "${g}" is reserved for the cluster's own components`);
  }
  let expirationSeconds: number | undefined;
  if (values.expiration !== undefined) {
    try {
      expirationSeconds = Math.floor(parseDuration(values.expiration) / 1000);
    } catch (err) {
      throw new UsageError(`invalid --expiration: ${(err as Error).message}`);
    }
    if (expirationSeconds < 600) throw new UsageError('--expiration must be at least 10m');
  }
  const timeoutMs = values.timeout === undefined ? 60_000 : parseDuration(values.timeout);

  const home = resolveHome(values.home);
  const ctx = contextFor(loadConfig(home) ?? defaultConfig(home));
  if (!existsSync(ctx.paths.adminKubeconfig)) {
    process.stderr.write(`error: no cluster in ${home} (run skiff up first)\n`);
    return 1;
  }
  const dir = join(home, 'users');
  const kubeconfigPath = join(dir, `${name}.kubeconfig`);
  if (existsSync(kubeconfigPath)) {
    process.stderr.write(`error: user "${name}" already has ${kubeconfigPath} (remove it to issue a new certificate)\n`);
    return 1;
  }

  const kc = new KubeConfig();
  kc.loadFromFile(ctx.paths.adminKubeconfig);
  const client = new RestClient(kc, { userAgent: 'skiff-user' });
  const { keyPem, csrPem } = await newKeyAndCSR(name, groups);
  const created = await client.create<CertificateSigningRequest>(CertificateSigningRequests, '', {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: `user-${name.replace(/[@_]/g, '-')}-` },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['digital signature', 'client auth'],
      ...(expirationSeconds !== undefined ? { expirationSeconds } : {}),
    },
  });
  const csrName = created.metadata.name!;
  created.status = {
    ...created.status,
    conditions: [...(created.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'SkiffUserAdd', message: 'This CSR was approved by skiff user add.' }],
  };
  await client.update(CertificateSigningRequests, created, { subresource: 'approval' });

  const deadline = Date.now() + timeoutMs;
  let certificate: string | undefined;
  for (;;) {
    const csr = await client.get<CertificateSigningRequest>(CertificateSigningRequests, '', csrName);
    const failed = csrCondition(csr, 'Failed');
    if (failed) {
      process.stderr.write(`error: the signer refused CertificateSigningRequest ${csrName}: ${failed.message ?? failed.reason ?? ''}\n`);
      return 1;
    }
    if (csr.status?.certificate) {
      certificate = Buffer.from(csr.status.certificate, 'base64').toString('utf8');
      break;
    }
    if (Date.now() > deadline) {
      process.stderr.write(`error: CertificateSigningRequest ${csrName} was approved but not signed within ${values.timeout ?? '60s'}: is the controller manager running (skiff status)?\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, `${name}.key`);
  writeFileSync(keyPath, keyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(join(dir, `${name}.crt`), certificate, { mode: 0o644 });
  writeKubeconfig(kubeconfigPath, {
    server: apiserverURL(ctx.config),
    caData: readFileSync(join(ctx.paths.pki, 'ca.crt'), 'utf8'),
    clientCert: certificate,
    clientKey: keyPem,
    user: name,
    context: `${name}@skiff`,
  });
  const groupText = groups.length ? ` in group${groups.length > 1 ? 's' : ''} ${groups.join(', ')}` : '';
  process.stdout.write(`User "${name}"${groupText} has a certificate from the cluster CA (CertificateSigningRequest ${csrName}).
Kubeconfig: ${kubeconfigPath}

The user has no rights until a binding gives them some, for example:
  kubectl create rolebinding ${name}-edit --clusterrole=edit --user=${name} --namespace=default
Then:
  kubectl --kubeconfig ${kubeconfigPath} get pods
`);
  return 0;
}

/** userCommand is `skiff user`. */
export const userCommand: CommandSpec = { name: 'user', summary: 'Add a user with a client certificate from the cluster CA', usage, run: user };
