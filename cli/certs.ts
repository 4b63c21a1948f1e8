// `skiff certs upload`: seal the control plane's CA keys into kube-system/kubeadm-certs under a
// certificate key and print the key (kubeadm init phase upload-certs --upload-certs). A machine
// that joins with `skiff join … --control-plane --certificate-key KEY` decrypts them.

import { newCertificateKey, parseCertificateKey } from '../lib/controlplanejoin.js';
import { clientFor, joinEndpoint } from './token.js';
import { publishClusterConfig, uploadCerts } from '../lib/process/uploadcerts.js';
import { homeFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Upload the control plane's certificates for machines that join as control-plane members.

Usage:
  skiff certs upload [--certificate-key KEY] [--home DIR]

Seals the cluster CA, the service-account key pair, etcd's CAs and the encryption keys with
AES-256-GCM under the certificate key (a new one unless given) into the kube-system Secret
kubeadm-certs, which expires with a 2h token, and prints the key. Hand the key only to whoever
joins a control-plane member: with a bootstrap token it decrypts every CA key of the cluster.

Flags:
      --certificate-key KEY  64 hex digits (default: a new random key)
      --home DIR             cluster home (env SKIFF_HOME, default ~/.skiff)
  -h, --help                 show this help
`;

const options = { ...homeFlag, 'certificate-key': { type: 'string' } } as const;

async function certs(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, options, true);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals[0] !== 'upload' || positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing subcommand: upload' : `unknown subcommand "${positionals.join(' ')}" (upload)`);
  const key = values['certificate-key'] ?? newCertificateKey();
  try {
    parseCertificateKey(key);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const home = resolveHome(values.home);
  const { client, config } = clientFor(home);
  await publishClusterConfig(client, config, joinEndpoint(config));
  await uploadCerts(client, home, key);
  process.stdout.write('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n');
  process.stdout.write(`[upload-certs] Using certificate key:\n${key}\n`);
  process.exit(0);
}

/** certsCommand is `skiff certs`. */
export const certsCommand: CommandSpec = { name: 'certs', summary: 'Upload the control plane certificates for control-plane joins', usage, run: certs };
