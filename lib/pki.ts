// The cluster's PKI: one CA, serving certificates for the components that serve TLS and client
// certificates for everything that authenticates with one. Keys are ECDSA P-256 (Go's TLS stack,
// kubectl and Node all accept them) in PKCS#8 PEM; files are reused when they still fit, so
// `skiff up` can run any number of times without invalidating kubeconfigs already handed out.

import { webcrypto, X509Certificate as NodeX509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;

const day = 24 * 60 * 60 * 1000;
/** caValidity is ten years, as kubeadm gives its CA. */
const caValidity = 3650 * day;
/** leafValidity is one year, as kubeadm gives its leaf certificates. */
const leafValidity = 365 * day;
/** renewBefore: a leaf certificate this close to expiry is issued anew on the next ensure. */
const renewBefore = 30 * day;

/** CertFiles are the paths of a certificate and its private key. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** CAFiles are the CA's certificate and key paths. */
export type CAFiles = CertFiles;

/** ServingCertOptions names a serving certificate and the hosts (IPs or DNS names) it must cover. */
export interface ServingCertOptions {
  name: string;
  hosts: string[];
  /** commonName defaults to name. */
  commonName?: string;
  /** clientAuth also allows the certificate for client authentication (an etcd peer is both). */
  clientAuth?: boolean;
}

/** ClientCertOptions names a client certificate and the identity it carries (user = CN, groups = O). */
export interface ClientCertOptions {
  name: string;
  commonName: string;
  organizations: string[];
}

/** caCommonName is the subject of the cluster CA, as kubeadm names its own. */
export const caCommonName = 'kubernetes';

/** kubernetesServiceHosts are the names and the ClusterIP every in-cluster client reaches the apiserver by. */
export const kubernetesServiceHosts = [
  '10.96.0.1',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

/** hostAddresses lists the machine's non-internal IPv4 addresses (what other nodes reach it by). */
export function hostAddresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && !out.includes(a.address)) out.push(a.address);
    }
  }
  return out;
}

/**
 * apiserverHosts is the SAN list of the apiserver's serving certificate: loopback, the machine's
 * name and addresses, the `kubernetes` Service's ClusterIP and DNS names, and any extra hosts.
 */
export function apiserverHosts(extra: string[] = []): string[] {
  return dedupe(['127.0.0.1', 'localhost', hostname(), ...hostAddresses(), ...kubernetesServiceHosts, ...extra]);
}

/**
 * ensureCA loads the CA in dir (ca.crt, ca.key) or creates it, with subject CN=commonName, when
 * either file is missing.
 */
export function ensureCA(dir: string, commonName = caCommonName): Promise<CAFiles> {
  return serialized(dir, () => ensureCANow(dir, commonName));
}

async function ensureCANow(dir: string, commonName = caCommonName): Promise<CAFiles> {
  const files = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(now + caValidity),
    keys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeKeyPair(files, cert, keys.privateKey);
  return files;
}

/** ServiceAccountKeyFiles are the service-account signing key (sa.key) and its public key (sa.pub). */
export interface ServiceAccountKeyFiles {
  key: string;
  pub: string;
}

/**
 * ensureServiceAccountKey makes the key pair that signs service-account tokens, as kubeadm's
 * sa.key and sa.pub: RSA 2048 (every JWT verifier knows RS256), the private key 0600. An existing
 * pair is kept, so tokens already handed out stay valid across `skiff up`; a missing sa.pub is
 * derived from sa.key.
 */
export function ensureServiceAccountKey(dir: string): ServiceAccountKeyFiles {
  const files = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.key)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeAtomic(files.key, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
    writeAtomic(files.pub, createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string, 0o644);
  } else if (!existsSync(files.pub)) {
    writeAtomic(files.pub, createPublicKey(readFileSync(files.key)).export({ format: 'pem', type: 'spki' }) as string, 0o644);
  }
  return files;
}

/**
 * ensureServingCert issues `<name>.crt`/`<name>.key` for TLS serving, signed by the CA in dir.
 * An existing certificate is kept while it was issued by that CA, is not about to expire and its
 * SANs cover every requested host; otherwise it is issued anew (the key is replaced too).
 */
export async function ensureServingCert(dir: string, opts: ServingCertOptions): Promise<CertFiles> {
  const hosts = dedupe(opts.hosts);
  return ensureLeaf(dir, opts.name, {
    subject: [{ CN: [opts.commonName ?? opts.name] }],
    usages: opts.clientAuth ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth],
    sans: hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
    fits: (cert) => hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h, { wildcards: false }) !== undefined)),
  });
}

/**
 * ensureClientCert issues `<name>.crt`/`<name>.key` for TLS client authentication: Kubernetes
 * reads the user from the subject's CN and the groups from its O values. An existing certificate
 * is kept while its subject carries exactly that identity.
 */
export async function ensureClientCert(dir: string, opts: ClientCertOptions): Promise<CertFiles> {
  const subject = [...opts.organizations.map((o) => ({ O: [o] })), { CN: [opts.commonName] }];
  return ensureLeaf(dir, opts.name, {
    subject,
    usages: [x509.ExtendedKeyUsage.clientAuth],
    sans: [],
    fits: (cert) => {
      const id = subjectIdentity(cert.subject);
      return id.commonName === opts.commonName && sameSet(id.organizations, opts.organizations);
    },
  });
}

/**
 * ensurePeerCert issues `<name>.crt`/`<name>.key` for both ends of a mutual-TLS link (etcd's peer
 * certificate: it serves peers and dials them with the same file), so it carries both serverAuth
 * and clientAuth. Kept on the same terms as ensureServingCert.
 */
export async function ensurePeerCert(dir: string, opts: ServingCertOptions): Promise<CertFiles> {
  const hosts = dedupe(opts.hosts);
  return ensureLeaf(dir, opts.name, {
    subject: [{ CN: [opts.commonName ?? opts.name] }],
    usages: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    sans: hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
    fits: (cert) => hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h, { wildcards: false }) !== undefined)),
  });
}

/** subjectIdentity reads CN and the O values out of Node's multi-line subject rendering. */
export function subjectIdentity(subject: string): { commonName?: string; organizations: string[] } {
  const out: { commonName?: string; organizations: string[] } = { organizations: [] };
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const attr = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (attr === 'CN') out.commonName = value;
    else if (attr === 'O') out.organizations.push(value);
  }
  return out;
}

/** etcdCACommonName is the subject of etcd's own CA, as kubeadm names it. */
export const etcdCACommonName = 'etcd-ca';

/** EtcdPKI are the files of etcd's own PKI: its CA, its serving and peer certificates, and the client certificates it accepts. */
export interface EtcdPKI {
  ca: CAFiles;
  server: CertFiles;
  peer: CertFiles;
  /** apiserverClient is the apiserver's (and the tests' raw readers') client certificate. */
  apiserverClient: CertFiles;
  /** healthcheckClient is what the supervisor probes etcd's /health with. */
  healthcheckClient: CertFiles;
}

/**
 * ensureEtcdPKI creates (or keeps) etcd's own CA in dir, separate from the cluster CA as kubeadm
 * keeps it: etcd then trusts only certificates it issued, so a certificate of the cluster CA (any
 * user's, any kubelet's) does not open etcd. Its serving and peer certificates cover loopback only.
 */
export async function ensureEtcdPKI(dir: string): Promise<EtcdPKI> {
  const ca = await ensureCA(dir, etcdCACommonName);
  const hosts = ['127.0.0.1', '::1', 'localhost'];
  return {
    ca,
    server: await ensureServingCert(dir, { name: 'server', commonName: 'etcd-server', hosts, clientAuth: true }),
    peer: await ensureServingCert(dir, { name: 'peer', commonName: 'etcd-peer', hosts, clientAuth: true }),
    apiserverClient: await ensureClientCert(dir, { name: 'apiserver-etcd-client', commonName: 'kube-apiserver-etcd-client', organizations: [] }),
    healthcheckClient: await ensureClientCert(dir, { name: 'healthcheck-client', commonName: 'kube-etcd-healthcheck-client', organizations: [] }),
  };
}

interface LeafSpec {
  subject: x509.JsonName;
  usages: x509.ExtendedKeyUsage[];
  sans: x509.JsonGeneralNames;
  fits: (cert: NodeX509Certificate) => boolean;
}

const pending = new Map<string, Promise<unknown>>();
/**
 * serialized runs fn after every earlier call for the same dir has settled: concurrent ensures in
 * one process must not each create a CA, or leaves would end up signed by a CA that was replaced.
 */
function serialized<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  dir = resolve(dir);
  const prev = pending.get(dir) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  pending.set(dir, settled);
  void settled.then(() => {
    if (pending.get(dir) === settled) pending.delete(dir);
  });
  return next;
}

function ensureLeaf(dir: string, name: string, spec: LeafSpec): Promise<CertFiles> {
  return serialized(dir, () => ensureLeafNow(dir, name, spec));
}

async function ensureLeafNow(dir: string, name: string, spec: LeafSpec): Promise<CertFiles> {
  const ca = await ensureCANow(dir);
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const caCert = new NodeX509Certificate(readFileSync(ca.cert));
  if (existsSync(files.cert) && existsSync(files.key)) {
    const current = new NodeX509Certificate(readFileSync(files.cert));
    const fresh = Date.parse(current.validTo) - Date.now() > renewBefore;
    if (fresh && current.checkIssued(caCert) && current.verify(caCert.publicKey) && spec.fits(current)) return files;
  }
  const caKey = await importPrivateKey(readFileSync(ca.key, 'utf8'));
  const caX509 = new x509.X509Certificate(readFileSync(ca.cert, 'utf8'));
  const keys = await generateKeyPair();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // ECDSA keys sign the handshake and never encipher keys: digitalSignature is the only usage.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(spec.usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(caX509.publicKey),
  ];
  if (spec.sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(spec.sans, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: spec.subject,
    issuer: caX509.subject,
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(now + leafValidity),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: caKey.algorithm.name === 'ECDSA' ? signingAlgorithm : { name: caKey.algorithm.name },
    extensions,
  });
  await writeKeyPair(files, cert, keys.privateKey);
  return files;
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** importPrivateKey reads a PEM key (PKCS#8, SEC1 or PKCS#1) as a WebCrypto signing key. */
async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const key = createPrivateKey(pem);
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const algorithm =
    key.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256' };
  return (await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign'])) as CryptoKey;
}

async function writeKeyPair(files: CertFiles, cert: x509.X509Certificate, privateKey: CryptoKey): Promise<void> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', privateKey as webcrypto.CryptoKey);
  writeAtomic(files.key, x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), 0o600);
  writeAtomic(files.cert, cert.toString('pem') + '\n', 0o644);
}

/** writeAtomic replaces path in one rename so a reader never sees half a PEM file. */
function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** serialNumber is 16 random bytes with the top bit clear, so the DER integer stays positive. */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs.filter((x) => x.length > 0))];
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/** KeyAndCSR is a fresh private key (PKCS#8 PEM) and a PEM certificate request signed by it. */
export interface KeyAndCSR {
  keyPem: string;
  csrPem: string;
}

/** newKeyAndCSR makes an ECDSA P-256 key and a certificate request for CN = commonName, O = organizations (and subjectAltNames sans, for a serving certificate). */
export async function newKeyAndCSR(commonName: string, organizations: string[], sans: { type: 'dns' | 'ip'; value: string }[] = []): Promise<KeyAndCSR> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }],
    keys,
    signingAlgorithm,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans, false)] : [],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return { keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') + '\n' };
}

/** SignRequest is what a signer puts into a certificate it issues for a CSR. */
export interface SignRequest {
  /** csrPem is the PEM CERTIFICATE REQUEST; its subject, public key and SANs are copied. */
  csrPem: string;
  /** usages are certificates/v1 KeyUsage names ("digital signature", "client auth", …). */
  usages: string[];
  /** durationMs is the certificate's lifetime from now. */
  durationMs: number;
  now?: Date;
}

const keyUsageFlags: Record<string, number> = {
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};
const extKeyUsages: Record<string, string> = {
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
};

const subjectAltNameOID = '2.5.29.17';

/** csrSubjectAltNames lists the SANs of a PEM certificate request by type (dns, ip, email, url). */
export function csrSubjectAltNames(csrPem: string): { type: string; value: string }[] {
  const ext = new x509.Pkcs10CertificateRequest(csrPem).getExtension(subjectAltNameOID);
  if (!ext) return [];
  return new x509.SubjectAlternativeNameExtension(ext.rawData).names.toJSON().map((n) => ({ type: n.type, value: n.value }));
}

/** csrIdentity reads CN and the O values of a PEM certificate request's subject. */
export function csrIdentity(csrPem: string): { commonName?: string; organizations: string[] } {
  const name = new x509.Pkcs10CertificateRequest(csrPem).subjectName;
  return { commonName: name.getField('CN')[0], organizations: name.getField('O') };
}

/**
 * signCertificateRequest issues a certificate for a CSR with the CA's certificate and key (PEM),
 * as kube's local signer does: subject, SANs and public key from the request, the requested key
 * usages, backdated five minutes, never past the CA's own expiry.
 */
export async function signCertificateRequest(caCertPem: string, caKeyPem: string, req: SignRequest): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(req.csrPem);
  if (!(await csr.verify())) throw new Error('certificate request signature verification failed');
  const caKey = await importPrivateKey(caKeyPem);
  const ca = new x509.X509Certificate(caCertPem);
  const now = (req.now ?? new Date()).getTime();
  const notAfter = Math.min(now + req.durationMs, ca.notAfter.getTime());
  let flags = 0;
  for (const u of req.usages) flags |= keyUsageFlags[u] ?? 0;
  const ekus = req.usages.map((u) => extKeyUsages[u]).filter((u): u is string => u !== undefined);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
  ];
  if (flags) extensions.push(new x509.KeyUsagesExtension(flags, true));
  if (ekus.length) extensions.push(new x509.ExtendedKeyUsageExtension(ekus, false));
  const san = csr.getExtension(subjectAltNameOID);
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san.rawData));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: csr.subjectName,
    issuer: ca.subject,
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(notAfter),
    publicKey: csr.publicKey,
    signingKey: caKey,
    signingAlgorithm: caKey.algorithm.name === 'ECDSA' ? signingAlgorithm : { name: caKey.algorithm.name },
    extensions,
  });
  return cert.toString('pem') + '\n';
}
