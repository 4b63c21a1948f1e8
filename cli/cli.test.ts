import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { saveConfig, defaultConfig } from '../lib/process/cluster.js';
import { looksLikeHome } from './down.js';
import { resolveHome, UsageError } from './options.js';
import { statusTable } from './status.js';
import { upConfig } from './up.js';

describe('skiff CLI', () => {
  let home: string;
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('resolveHome prefers --home, then SKIFF_HOME, then ~/.skiff', () => {
    assert.equal(resolveHome('/a', { SKIFF_HOME: '/b' }), '/a');
    assert.equal(resolveHome(undefined, { SKIFF_HOME: '/b' }), '/b');
    assert.match(resolveHome(undefined, {}), /\/\.skiff$/);
  });

  test('up takes ports from flags over the environment over the saved config over the defaults', () => {
    const fresh = upConfig(['--home', join(home, 'none')], {}).config;
    assert.equal(fresh.etcdClientPort, 2379);
    assert.equal(fresh.etcdPeerPort, 2380);
    assert.equal(fresh.apiserverPort, 6443);
    assert.equal(fresh.bindAddress, '0.0.0.0');

    saveConfig({ ...defaultConfig(home), etcdClientPort: 12379, apiserverPort: 16443 });
    const saved = upConfig(['--home', home], {}).config;
    assert.equal(saved.etcdClientPort, 12379);
    assert.equal(saved.apiserverPort, 16443);

    const env = upConfig(['--home', home], { SKIFF_ETCD_PORT: '22379', SKIFF_APISERVER_PORT: '26443' }).config;
    assert.equal(env.etcdClientPort, 22379);
    assert.equal(env.apiserverPort, 26443);

    const flags = upConfig(['--home', home, '--etcd-port=32379', '--secure-port', '36443', '-v=3'], { SKIFF_ETCD_PORT: '22379' }).config;
    assert.equal(flags.etcdClientPort, 32379);
    assert.equal(flags.apiserverPort, 36443);
    assert.equal(flags.verbosity, 3);
  });

  test('up rejects bad ports, addresses, unknown flags and unknown components', () => {
    assert.throws(() => upConfig(['--home', home, '--secure-port', '70000'], {}), UsageError);
    assert.throws(() => upConfig(['--home', home, '--etcd-port', 'abc'], {}), UsageError);
    assert.throws(() => upConfig(['--home', home, '--advertise-address', 'not-an-ip'], {}), UsageError);
    assert.throws(() => upConfig(['--home', home, '--bogus'], {}), UsageError);
    assert.throws(() => upConfig(['--home', home, '--only', 'etcd,kubelett'], {}), /unknown component "kubelett"/);
    assert.deepEqual(upConfig(['--home', home, '--only', 'etcd'], {}).only, ['etcd']);
  });

  test('down --purge only deletes a folder skiff made', () => {
    assert.equal(looksLikeHome(home), true);
    const other = mkdtempSync(join(tmpdir(), 'not-skiff-'));
    try {
      assert.equal(looksLikeHome(other), false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('status renders one aligned row per component', () => {
    const now = 1_800_000_000_000;
    const out = statusTable(
      [
        { name: 'etcd', pid: 4242, running: true, health: { ok: true, status: 200, body: 'ok' }, uptimeMs: 125_000, restarts: 0 },
        { name: 'apiserver', running: false, health: { ok: false, status: 0, body: '', error: 'connect ECONNREFUSED 127.0.0.1:6443' }, restarts: 0 },
        {
          name: 'scheduler', pid: 77, running: true, health: { ok: true, status: 200, body: 'ok' }, uptimeMs: 30_000,
          restarts: 2, lastRestartAt: now - 30_000, lastExit: { code: 1, signal: null, at: now - 32_000 },
        },
        {
          name: 'sim', running: false, health: { ok: false, status: 0, body: '', error: 'connect ECONNREFUSED 127.0.0.1:10260' },
          restarts: 1, lastRestartAt: now - 90_000, lastExit: { code: null, signal: 'SIGKILL', at: now - 1_000 }, nextRestartAt: now + 3_000,
        },
      ],
      now,
    );
    assert.equal(
      out,
      [
        'NAME        PID    STATUS         HEALTH                                               UPTIME   RESTARTS      LAST EXIT',
        'etcd        4242   Running        healthy                                              2m5s     0             -',
        'apiserver   -      Stopped        unreachable (connect ECONNREFUSED 127.0.0.1:6443)    -        0             -',
        'scheduler   77     Running        healthy                                              30s      2 (30s ago)   code 1',
        'sim         -      BackOff (3s)   unreachable (connect ECONNREFUSED 127.0.0.1:10260)   -        1 (90s ago)   signal SIGKILL',
        '',
      ].join('\n'),
    );
  });
});
