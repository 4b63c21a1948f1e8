// Encryption at rest: each provider reads published known-answer vectors in kube's stored layout,
// the prefixes are kube's, rotation reads old data, and bad configurations and bad data fail with
// kube-apiserver's words.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  EncryptionConfigError,
  ResourceTransformers,
  TransformError,
  aescbcTransformer,
  aesgcmTransformer,
  parseEncryptionConfig,
  secretboxTransformer,
  type EncryptionConfiguration,
} from './encryption.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const key32 = (byte: number) => Buffer.alloc(32, byte).toString('base64');

const config = (providers: EncryptionConfiguration['resources'][number]['providers'], resources = ['secrets']): EncryptionConfiguration => ({
  apiVersion: 'apiserver.config.k8s.io/v1',
  kind: 'EncryptionConfiguration',
  resources: [{ resources, providers }],
});

const secretKey = '/registry/core/secrets/default/db';

describe('known vectors in the stored layout', () => {
  it('aescbc reads IV + CBC ciphertext with PKCS#7 padding (made by `openssl enc -aes-256-cbc`)', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const stored = Buffer.concat([hex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf'), hex('3c314e5e373eaa5c1c4b64c4b748277023ec1e0dd21091d5c83f22c499bee61ea79fa205f3b995df6d30e490aa32ad2e')]);
    assert.equal(aescbcTransformer(key).fromStorage(stored, secretKey).toString(), 'skiff secret value, PKCS#7 padded');
  });

  it('aesgcm reads nonce + ciphertext + tag (GCM spec test case 3, empty authenticated data)', () => {
    const key = hex('feffe9928665731c6d6a8f9467308308');
    const plain = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
    const stored = hex(
      'cafebabefacedbaddecaf888' +
        '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985' +
        '4d5c2af327cd64a62cf35abd2ba6fab4',
    );
    assert.equal(aesgcmTransformer(key).fromStorage(stored, '').toString('hex'), plain);
    // The etcd key is the authenticated data: the same bytes under another key do not open.
    assert.throws(() => aesgcmTransformer(key).fromStorage(stored, secretKey), { message: 'cipher: message authentication failed' });
  });

  it('secretbox reads nonce + box (NaCl secretbox test vector)', () => {
    const key = hex('1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389');
    const nonce = hex('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37');
    const box = hex(
      'f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5',
    );
    const plain = 'be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705';
    assert.equal(secretboxTransformer(key).fromStorage(Buffer.concat([nonce, box]), secretKey).toString('hex'), plain);
  });
});

describe('ResourceTransformers', () => {
  const data = Buffer.from('{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}');

  for (const provider of ['aescbc', 'aesgcm', 'secretbox'] as const) {
    it(`${provider}: writes k8s:enc:${provider}:v1:<key>: and reads it back`, () => {
      const t = new ResourceTransformers(config([{ [provider]: { keys: [{ name: 'k1', secret: key32(7) }] } }]));
      const stored = t.toStorage(data, secretKey);
      assert.ok(stored.subarray(0, 40).toString().startsWith(`k8s:enc:${provider}:v1:k1:`), stored.subarray(0, 30).toString());
      assert.ok(!stored.includes('aHVudGVyMg=='), 'the value is not stored in the clear');
      assert.deepEqual(t.fromStorage(stored, secretKey), data);
      // A fresh nonce per write.
      assert.notDeepEqual(t.toStorage(data, secretKey), stored);
    });
  }

  it('only the configured resources are encrypted; others are stored as they are', () => {
    const t = new ResourceTransformers(config([{ aescbc: { keys: [{ name: 'k1', secret: key32(1) }] } }], ['secrets', 'deployments.apps', '*.example.com']));
    assert.ok(t.toStorage(data, '/registry/apps/deployments/ns/x').toString().startsWith('k8s:enc:aescbc:v1:k1:'));
    assert.ok(t.toStorage(data, '/registry/example.com/widgets/ns/x').toString().startsWith('k8s:enc:aescbc:v1:k1:'));
    assert.deepEqual(t.toStorage(data, '/registry/core/configmaps/ns/x'), data);
    assert.deepEqual(t.toStorage(data, '/registry/apps/replicasets/ns/x'), data);
  });

  it('rotation: the new key writes, the old key still reads, identity reads unencrypted data', () => {
    const old = new ResourceTransformers(config([{ aescbc: { keys: [{ name: 'old', secret: key32(1) }] } }]));
    const written = old.toStorage(data, secretKey);
    const rotated = new ResourceTransformers(
      config([{ aescbc: { keys: [{ name: 'new', secret: key32(2) }, { name: 'old', secret: key32(1) }] } }, { identity: {} }]),
    );
    assert.deepEqual(rotated.fromStorage(written, secretKey), data);
    assert.deepEqual(rotated.fromStorage(data, secretKey), data);
    assert.ok(rotated.toStorage(data, secretKey).toString().startsWith('k8s:enc:aescbc:v1:new:'));
  });

  it('a value no key reads fails with kube-apiserver\'s message', () => {
    const a = new ResourceTransformers(config([{ aescbc: { keys: [{ name: 'k1', secret: key32(1) }] } }]));
    const written = a.toStorage(data, secretKey);
    const otherName = new ResourceTransformers(config([{ aescbc: { keys: [{ name: 'k2', secret: key32(2) }] } }, { identity: {} }]));
    assert.throws(() => otherName.fromStorage(written, secretKey), (err: Error) => err instanceof TransformError && err.message === 'no matching prefix found');
    // Same name, another secret: the padding check fails (or, rarely, the padding happens to be valid and the JSON is garbage).
    const sameName = new ResourceTransformers(config([{ aescbc: { keys: [{ name: 'k1', secret: key32(3) }] } }]));
    assert.throws(() => {
      const out = sameName.fromStorage(written, secretKey);
      JSON.parse(out.toString());
    });
    // Without identity, unencrypted data is unreadable too.
    assert.throws(() => a.fromStorage(data, secretKey), { message: 'no matching prefix found' });
  });
});

describe('parseEncryptionConfig', () => {
  const yaml = (providers: string) => `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n${providers}`;

  it('reads kube\'s YAML', () => {
    const c = parseEncryptionConfig(yaml(`  - aescbc:\n      keys:\n      - name: key1\n        secret: ${key32(5)}\n  - identity: {}\n`));
    assert.equal(c.resources[0]!.providers.length, 2);
  });

  it('refuses bad keys and unknown providers with a field path', () => {
    assert.throws(() => parseEncryptionConfig(yaml(`  - aescbc:\n      keys:\n      - name: key1\n        secret: ${Buffer.alloc(10).toString('base64')}\n`)), (err: Error) =>
      err instanceof EncryptionConfigError && err.message.includes('secret is not of the expected length, got 10, expected one of [16 24 32]'));
    assert.throws(() => parseEncryptionConfig(yaml(`  - secretbox:\n      keys:\n      - name: key1\n        secret: ${Buffer.alloc(16).toString('base64')}\n`)), /expected one of \[32\]/);
    assert.throws(() => parseEncryptionConfig(yaml(`  - kms:\n      name: x\n`)), /resources\[0\]\.providers\[0\]: Invalid value: kms/);
    assert.throws(() => parseEncryptionConfig(yaml(`  - aescbc:\n      keys: []\n`)), /keys: Required value/);
    assert.throws(() => parseEncryptionConfig('kind: Nope\n'), EncryptionConfigError);
  });

  it('never puts the secret in an error message', () => {
    const secret = Buffer.alloc(20, 9).toString('base64');
    assert.throws(() => parseEncryptionConfig(yaml(`  - aescbc:\n      keys:\n      - name: key1\n        secret: ${secret}\n`)), (err: Error) => !err.message.includes(secret));
  });
});
