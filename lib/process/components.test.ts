import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from './cluster.js';
import { components, startDependencies } from './components.js';
import { clusterComponents } from './controlplane.js';

describe('startDependencies', () => {
  it('starts etcd and containerd together, then the apiserver, then every API client; the kubelet also waits for containerd', () => {
    const deps = startDependencies(components);
    assert.deepEqual(Object.fromEntries(deps), {
      etcd: [],
      apiserver: ['etcd'],
      'controller-manager': ['apiserver'],
      scheduler: ['apiserver'],
      sim: ['apiserver'],
      dns: ['apiserver'],
      containerd: [],
      kubelet: ['apiserver', 'containerd'],
      proxy: ['apiserver'],
    });
  });

  it('waits for everything before a component whose dependency is not being started (--only, several control-plane members)', () => {
    const only = components.filter((c) => ['containerd', 'kubelet', 'proxy'].includes(c.name));
    assert.deepEqual(Object.fromEntries(startDependencies(only)), { containerd: [], kubelet: ['containerd'], proxy: ['containerd', 'kubelet'] });

    const members = clusterComponents({ ...defaultConfig('/h'), realNode: true, controlPlaneMembers: 2 });
    const deps = startDependencies(members);
    const before = (name: string) => members.slice(0, members.findIndex((c) => c.name === name)).map((c) => c.name);
    // The members' own processes declare nothing: a plain sequence, as before.
    assert.deepEqual(deps.get('apiserver-2'), before('apiserver-2'));
    // No `apiserver` in this list: the node's components wait for the whole control plane.
    assert.deepEqual(deps.get('kubelet'), before('kubelet'));
    assert.deepEqual(deps.get('containerd'), [], 'containerd still starts at once');
  });

  it('only ever waits for components earlier in the list (the sequence stays a valid order)', () => {
    const reversed = [...components].reverse();
    for (const [name, waits] of startDependencies(reversed)) {
      const i = reversed.findIndex((c) => c.name === name);
      for (const w of waits) assert.ok(reversed.findIndex((c) => c.name === w) < i, `${name} waits for ${w}, which comes later`);
    }
  });
});
