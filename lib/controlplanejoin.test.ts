import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { CertificateKeyError, decryptValue, encryptValue, newCertificateKey, parseCertificateKey, parseClusterStatus, statusYAML } from './controlplanejoin.js';

describe('uploaded certificates', () => {
  const key = parseCertificateKey(newCertificateKey());

  it('seal with AES-256-GCM as nonce ‖ ciphertext ‖ tag, and open with the same key', () => {
    const data = Buffer.from('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
    const sealed = encryptValue(data, key);
    assert.equal(sealed.length, 12 + data.length + 16);
    // Go's gcm.Open(nil, nonce, ciphertext‖tag) layout, opened by hand.
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    assert.deepEqual(Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]), data);
    assert.deepEqual(decryptValue(sealed, key), data);
    assert.notDeepEqual(encryptValue(data, key), sealed, 'a new nonce each time');
  });

  it('refuse a wrong key, altered data and a malformed key', () => {
    const sealed = encryptValue(Buffer.from('secret'), key);
    assert.throws(() => decryptValue(sealed, parseCertificateKey(newCertificateKey())), (e: unknown) => e instanceof CertificateKeyError && /message authentication failed/.test(e.message));
    const altered = Buffer.from(sealed);
    altered[14]! ^= 1;
    assert.throws(() => decryptValue(altered, key), CertificateKeyError);
    assert.throws(() => decryptValue(Buffer.alloc(10), key), /size of data is less than the nonce and tag sizes/);
    assert.throws(() => parseCertificateKey('abc'), /must be 64 hexadecimal digits/);
  });

  it('ClusterStatus round-trips through kubeadm-config', () => {
    const s = parseClusterStatus(undefined);
    assert.deepEqual(s.apiEndpoints, {});
    s.apiEndpoints.m2 = { advertiseAddress: '192.0.2.7', bindPort: 6443, etcdClientURL: 'https://192.0.2.7:2379' };
    assert.deepEqual(parseClusterStatus({ ClusterStatus: statusYAML(s) }).apiEndpoints.m2, s.apiEndpoints.m2);
    assert.deepEqual(parseClusterStatus({ ClusterStatus: ': not yaml [' }).apiEndpoints, {});
  });
});
