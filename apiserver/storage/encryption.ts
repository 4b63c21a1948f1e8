// Encryption at rest, as kube-apiserver's --encryption-provider-config: an
// apiserver.config.k8s.io/v1 EncryptionConfiguration names, per resource, an ordered list of
// providers (identity, aescbc, aesgcm, secretbox, each with named keys). The first key of the
// first provider encrypts every write; every configured key is tried on reads, so a new key put
// first rotates without making old data unreadable. Stored values carry Kubernetes' own prefix,
// `k8s:enc:<provider>:v1:<keyname>:`, and the same bytes after it (aescbc: a 16-byte IV, then CBC
// with PKCS#7 padding; aesgcm: a 12-byte random nonce, then GCM sealed with the etcd key as
// authenticated data; secretbox: a 24-byte nonce, then NaCl secretbox), so an etcd written by one
// can be read by the other.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { parse as parseYAML } from 'yaml';

/** EncryptionConfiguration is apiserver.config.k8s.io/v1 EncryptionConfiguration (the fields skiff honours). */
export interface EncryptionConfiguration {
  apiVersion: 'apiserver.config.k8s.io/v1';
  kind: 'EncryptionConfiguration';
  resources: ResourceConfiguration[];
}

/** ResourceConfiguration is one entry of resources: which resources, and their providers in order. */
export interface ResourceConfiguration {
  resources: string[];
  providers: ProviderConfiguration[];
}

/** Key is a named key, its secret base64-encoded. */
export interface Key {
  name: string;
  secret: string;
}

/** ProviderConfiguration holds exactly one provider. */
export interface ProviderConfiguration {
  identity?: Record<string, never>;
  aescbc?: { keys: Key[] };
  aesgcm?: { keys: Key[] };
  secretbox?: { keys: Key[] };
}

/** EncryptionConfigError says an encryption configuration is malformed; the apiserver refuses to start. */
export class EncryptionConfigError extends Error {
  override name = 'EncryptionConfigError';
}

/** TransformError says a stored value could not be read back (wrong key, corrupt data). */
export class TransformError extends Error {
  override name = 'TransformError';
}

/** Transformer turns a value into its stored form and back; key (the etcd key) is the authenticated context. */
export interface Transformer {
  toStorage(data: Buffer, key: string): Buffer;
  fromStorage(data: Buffer, key: string): Buffer;
}

/** encryptedPrefix marks encrypted data: the identity provider refuses to read it. */
const encryptedPrefix = Buffer.from('k8s:enc:');

/** identityTransformer stores values as they are, and refuses to read one that is encrypted. */
export const identityTransformer: Transformer = {
  toStorage: (data) => data,
  fromStorage: (data) => {
    if (hasPrefix(data, encryptedPrefix)) throw new TransformError('identity transformer tried to read encrypted data');
    return data;
  },
};

const blockSize = 16;

/** aescbcTransformer is kube's aescbc: a random IV, then AES-CBC over the data with PKCS#7 padding. */
export function aescbcTransformer(secret: Buffer): Transformer {
  const algorithm = `aes-${secret.length * 8}-cbc`;
  return {
    toStorage: (data) => {
      const iv = randomBytes(blockSize);
      const cipher = createCipheriv(algorithm, secret, iv);
      return Buffer.concat([iv, cipher.update(data), cipher.final()]);
    },
    fromStorage: (data) => {
      if (data.length < blockSize) throw new TransformError('the stored data was shorter than the required size');
      const body = data.subarray(blockSize);
      if (body.length % blockSize !== 0) throw new TransformError('the stored data is not a multiple of the block size');
      const decipher = createDecipheriv(algorithm, secret, data.subarray(0, blockSize));
      // Padding is checked here, with kube's messages, rather than by OpenSSL's generic error.
      decipher.setAutoPadding(false);
      const plain = Buffer.concat([decipher.update(body), decipher.final()]);
      const pad = plain.length > 0 ? plain[plain.length - 1]! : 0;
      if (pad === 0 || pad > plain.length) throw new TransformError('invalid PKCS7 data (empty or not padded)');
      for (let i = plain.length - pad; i < plain.length; i++) {
        if (plain[i] !== pad) throw new TransformError('invalid padding on input');
      }
      return plain.subarray(0, plain.length - pad);
    },
  };
}

const gcmNonceSize = 12;
const gcmTagSize = 16;

/** aesgcmTransformer is kube's aesgcm: a random 12-byte nonce, then AES-GCM (tag last) with the etcd key as authenticated data. */
export function aesgcmTransformer(secret: Buffer): Transformer {
  const algorithm = `aes-${secret.length * 8}-gcm` as const;
  return {
    toStorage: (data, key) => {
      const nonce = randomBytes(gcmNonceSize);
      const cipher = createCipheriv(algorithm as 'aes-256-gcm', secret, nonce);
      cipher.setAAD(Buffer.from(key));
      return Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    },
    fromStorage: (data, key) => {
      if (data.length < gcmNonceSize + gcmTagSize) throw new TransformError('the stored data was shorter than the required size');
      const decipher = createDecipheriv(algorithm as 'aes-256-gcm', secret, data.subarray(0, gcmNonceSize));
      decipher.setAAD(Buffer.from(key));
      decipher.setAuthTag(data.subarray(data.length - gcmTagSize));
      try {
        return Buffer.concat([decipher.update(data.subarray(gcmNonceSize, data.length - gcmTagSize)), decipher.final()]);
      } catch {
        // Go's crypto/cipher says it this way.
        throw new TransformError('cipher: message authentication failed');
      }
    },
  };
}

const secretboxNonceSize = 24;

/** secretboxTransformer is kube's secretbox: a random 24-byte nonce, then XSalsa20-Poly1305 (NaCl secretbox). */
export function secretboxTransformer(secret: Buffer): Transformer {
  const key = new Uint8Array(secret);
  return {
    toStorage: (data) => {
      const nonce = randomBytes(secretboxNonceSize);
      return Buffer.concat([nonce, Buffer.from(nacl.secretbox(new Uint8Array(data), new Uint8Array(nonce), key))]);
    },
    fromStorage: (data) => {
      if (data.length < nacl.secretbox.overheadLength + secretboxNonceSize) throw new TransformError('the stored data was shorter than the required size');
      const opened = nacl.secretbox.open(new Uint8Array(data.subarray(secretboxNonceSize)), new Uint8Array(data.subarray(0, secretboxNonceSize)), key);
      // kube-apiserver's secretbox reports every failed open with this text.
      if (!opened) throw new TransformError('output array was not large enough for encryption');
      return Buffer.from(opened);
    },
  };
}

/** PrefixTransformer is one transformer and the prefix its values carry (empty for identity). */
export interface PrefixTransformer {
  prefix: Buffer;
  transformer: Transformer;
}

/**
 * prefixTransformers writes with the first transformer (its prefix first) and reads with the
 * first whose prefix the value carries and that can read it: a failed read goes on to the next,
 * since two keys of one provider share its prefix. When none can, the errors of those that tried
 * are reported, else "no matching prefix found" (kube-apiserver's words).
 */
export function prefixTransformers(list: PrefixTransformer[]): Transformer {
  if (list.length === 0) throw new EncryptionConfigError('no providers');
  const first = list[0]!;
  return {
    toStorage: (data, key) => Buffer.concat([first.prefix, first.transformer.toStorage(data, key)]),
    fromStorage: (data, key) => {
      const errors: string[] = [];
      for (const t of list) {
        if (!hasPrefix(data, t.prefix)) continue;
        try {
          return t.transformer.fromStorage(data.subarray(t.prefix.length), key);
        } catch (err) {
          // identity's refusal of encrypted data is not an error: a later provider decrypts it.
          if (t.prefix.length > 0) errors.push((err as Error).message);
        }
      }
      if (errors.length === 1) throw new TransformError(errors[0]!);
      if (errors.length > 1) throw new TransformError(`[${errors.join(', ')}]`);
      throw new TransformError('no matching prefix found');
    },
  };
}

/** providerNames are the providers skiff implements (kube's kms is not among them). */
const providerNames = ['identity', 'aescbc', 'aesgcm', 'secretbox'] as const;

const keyLengths: Record<'aescbc' | 'aesgcm' | 'secretbox', number[]> = { aescbc: [16, 24, 32], aesgcm: [16, 24, 32], secretbox: [32] };
const transformerOf = { aescbc: aescbcTransformer, aesgcm: aesgcmTransformer, secretbox: secretboxTransformer };

/** parseEncryptionConfig reads an EncryptionConfiguration (YAML or JSON) and checks it as kube-apiserver does at start. */
export function parseEncryptionConfig(text: string): EncryptionConfiguration {
  let doc: unknown;
  try {
    doc = parseYAML(text);
  } catch (err) {
    throw new EncryptionConfigError(`error while parsing file: ${(err as Error).message}`);
  }
  const c = doc as Partial<EncryptionConfiguration> | null;
  if (!c || typeof c !== 'object') throw new EncryptionConfigError('encryption provider configuration file is empty');
  if (c.kind !== 'EncryptionConfiguration' || c.apiVersion !== 'apiserver.config.k8s.io/v1') {
    throw new EncryptionConfigError(`no kind "${c.kind ?? ''}" is registered for version "${c.apiVersion ?? ''}": want kind EncryptionConfiguration, apiVersion apiserver.config.k8s.io/v1`);
  }
  if (!Array.isArray(c.resources) || c.resources.length === 0) throw new EncryptionConfigError('resources: Required value: EncryptionConfiguration.Resources must contain at least one resource');
  c.resources.forEach((r, i) => {
    const at = `resources[${i}]`;
    if (!Array.isArray(r?.resources) || r.resources.length === 0) throw new EncryptionConfigError(`${at}.resources: Required value: resources is a required field`);
    if (!Array.isArray(r.providers) || r.providers.length === 0) throw new EncryptionConfigError(`${at}.providers: Required value: providers is a required field`);
    r.providers.forEach((p, j) => {
      const pat = `${at}.providers[${j}]`;
      const set = Object.keys(p ?? {});
      const unknown = set.filter((n) => !(providerNames as readonly string[]).includes(n));
      if (unknown.length) throw new EncryptionConfigError(`${pat}: Invalid value: ${unknown.join(', ')}: skiff supports the providers ${providerNames.join(', ')}`);
      if (set.length !== 1) throw new EncryptionConfigError(`${pat}: Invalid value: ${JSON.stringify(p)}: more than one provider specified in a single element, should split into different list elements`);
      const name = set[0] as (typeof providerNames)[number];
      if (name === 'identity') return;
      const keys = p[name]!.keys;
      if (!Array.isArray(keys) || keys.length === 0) throw new EncryptionConfigError(`${pat}.${name}.keys: Required value: keys (secret) is a required field`);
      keys.forEach((k, n) => {
        const kat = `${pat}.${name}.keys[${n}]`;
        if (!k?.name) throw new EncryptionConfigError(`${kat}.name: Required value: key name is required`);
        if (k.name.includes(':')) throw new EncryptionConfigError(`${kat}.name: Invalid value: "${k.name}": key name must not contain ":"`);
        if (!k.secret) throw new EncryptionConfigError(`${kat}.secret: Required value: secret is required`);
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(k.secret)) throw new EncryptionConfigError(`${kat}.secret: Invalid value: "REDACTED": secrets must be base64 encoded`);
        const length = Buffer.from(k.secret, 'base64').length;
        if (!keyLengths[name].includes(length)) throw new EncryptionConfigError(`${kat}.secret: Invalid value: "REDACTED": secret is not of the expected length, got ${length}, expected one of [${keyLengths[name].join(' ')}]`);
      });
    });
  });
  return c as EncryptionConfiguration;
}

/** transformersFor builds one provider list's prefix transformers, in order, one per key. */
function transformersFor(providers: ProviderConfiguration[]): PrefixTransformer[] {
  const out: PrefixTransformer[] = [];
  for (const p of providers) {
    if (p.identity) {
      out.push({ prefix: Buffer.alloc(0), transformer: identityTransformer });
      continue;
    }
    for (const name of ['aescbc', 'aesgcm', 'secretbox'] as const) {
      for (const k of p[name]?.keys ?? []) {
        out.push({ prefix: Buffer.from(`k8s:enc:${name}:v1:${k.name}:`), transformer: transformerOf[name](Buffer.from(k.secret, 'base64')) });
      }
    }
  }
  return out;
}

/**
 * ResourceTransformers picks the transformer of a storage key (/registry/<group or core>/<resource>/…)
 * from the configuration: the first entry that names the resource (`secrets`, `deployments.apps`)
 * or a wildcard covering it (`*.apps`, `*.*`) wins; resources named nowhere are stored as they are.
 */
export class ResourceTransformers {
  private readonly entries: { match: (group: string, resource: string) => boolean; transformer: Transformer }[];
  private readonly byPrefix = new Map<string, Transformer>();

  constructor(config: EncryptionConfiguration) {
    this.entries = config.resources.map((r) => ({
      match: (group, resource) => r.resources.some((name) => matches(name, group, resource)),
      transformer: prefixTransformers(transformersFor(r.providers)),
    }));
  }

  /** forKey is the transformer of one storage key. */
  forKey(key: string): Transformer {
    // /registry/<group>/<resource>/: the first four segments.
    let end = 0;
    for (let i = 0; i < 4 && end >= 0; i++) end = key.indexOf('/', end + 1);
    const prefix = end < 0 ? key : key.slice(0, end + 1);
    let t = this.byPrefix.get(prefix);
    if (!t) {
      const [, , g = '', resource = ''] = prefix.split('/');
      const group = g === 'core' ? '' : g;
      t = this.entries.find((e) => e.match(group, resource))?.transformer ?? identityTransformer;
      this.byPrefix.set(prefix, t);
    }
    return t;
  }

  toStorage(data: Buffer, key: string): Buffer {
    return this.forKey(key).toStorage(data, key);
  }

  fromStorage(data: Buffer, key: string): Buffer {
    return this.forKey(key).fromStorage(data, key);
  }
}

/** matches says whether a configured resource name (`secrets`, `deployments.apps`, `*.apps`, `*.*`) covers group/resource. */
function matches(name: string, group: string, resource: string): boolean {
  if (name === '*.*') return true;
  const dot = name.indexOf('.');
  const res = dot < 0 ? name : name.slice(0, dot);
  const grp = dot < 0 ? '' : name.slice(dot + 1);
  if (res === '*') return grp === group;
  return res === resource && grp === group;
}

/** newEncryptionConfig is the configuration `skiff up` writes: Secrets (and nothing else) under one fresh aescbc key, identity to read older data. */
export function newEncryptionConfig(): EncryptionConfiguration {
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'key1', secret: randomBytes(32).toString('base64') }] } }, { identity: {} }] }],
  };
}

function hasPrefix(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}
