import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DaemonSet, defaultDaemonSet } from '../../lib/api/apps/daemonset.js';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Taint } from '../../lib/api/core/types.js';
import { Backoff } from '../../lib/controller/backoff.js';
import { addOrUpdateDaemonPodTolerations, getTargetNodeName, nodeShouldRunDaemonPod, replaceDaemonSetPodNodeNameNodeAffinity, surgeCount, unavailableCount } from './util.js';

function daemonSet(spec: Record<string, unknown> = {}, strategy?: DaemonSet['spec']['updateStrategy']): DaemonSet {
  const ds: DaemonSet = {
    metadata: { name: 'agent', namespace: 'ns' },
    spec: { selector: { matchLabels: { app: 'a' } }, updateStrategy: strategy, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } } },
  };
  defaultDaemonSet(ds);
  return ds;
}

const node = (name: string, taints?: Taint[], labels: Record<string, string> = {}): Node => ({
  metadata: { name, labels },
  spec: { taints },
});

describe('daemon pod placement', () => {
  it('adds the default tolerations once, and network-unavailable only for host-network pods', () => {
    const spec: { tolerations?: { key?: string; operator?: string; effect?: string; tolerationSeconds?: number }[]; hostNetwork?: boolean; containers: [] } = {
      containers: [],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
    };
    addOrUpdateDaemonPodTolerations(spec as never);
    addOrUpdateDaemonPodTolerations(spec as never);
    // The user's 30 s toleration of not-ready is replaced by the unbounded one, in place.
    assert.deepEqual(spec.tolerations![0], { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' });
    assert.equal(spec.tolerations!.length, 6);
    spec.hostNetwork = true;
    addOrUpdateDaemonPodTolerations(spec as never);
    assert.deepEqual(spec.tolerations!.at(-1), { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  });

  it('NoSchedule taints keep new pods off but running ones on; NoExecute removes them; tolerated taints do neither', () => {
    const ds = daemonSet({ tolerations: [{ key: 'gpu', operator: 'Exists' }] });
    assert.deepEqual(nodeShouldRunDaemonPod(node('a'), ds), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('b', [{ key: 'x', effect: 'NoSchedule' }]), ds), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('c', [{ key: 'x', effect: 'NoExecute' }]), ds), { shouldRun: false, shouldContinueRunning: false });
    assert.deepEqual(nodeShouldRunDaemonPod(node('d', [{ key: 'gpu', value: 'yes', effect: 'NoExecute' }]), ds), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('e', [{ key: 'x', effect: 'PreferNoSchedule' }]), ds), { shouldRun: true, shouldContinueRunning: true });
    // The daemon tolerations: a cordoned or not-ready node still runs it.
    assert.deepEqual(nodeShouldRunDaemonPod(node('f', [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), ds).shouldRun, true);
  });

  it('nodeSelector, required node affinity and the template nodeName pick nodes', () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } };
    const ds = daemonSet({ nodeSelector: { role: 'edge' }, affinity });
    assert.equal(nodeShouldRunDaemonPod(node('n', undefined, { role: 'edge', zone: 'a' }), ds).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('n', undefined, { role: 'edge', zone: 'c' }), ds).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('n', undefined, { zone: 'a' }), ds).shouldContinueRunning, false);
    const pinned = daemonSet({ nodeName: 'only' });
    assert.equal(nodeShouldRunDaemonPod(node('only'), pinned).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('other'), pinned).shouldRun, false);
  });

  it('the node affinity names exactly the target node, keeping preferred terms, and the target is read back', () => {
    const preferred = [{ weight: 1, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } }];
    const a = replaceDaemonSetPodNodeNameNodeAffinity(
      { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] }, preferredDuringSchedulingIgnoredDuringExecution: preferred } },
      'n7',
    );
    assert.deepEqual(a.nodeAffinity, {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: preferred,
    });
    assert.equal(getTargetNodeName({ metadata: {}, spec: { containers: [], affinity: a } } as Pod), 'n7');
    assert.equal(getTargetNodeName({ metadata: {}, spec: { containers: [], nodeName: 'bound', affinity: a } } as Pod), 'bound');
    assert.equal(getTargetNodeName({ metadata: {}, spec: { containers: [] } } as Pod), undefined);
  });

  it('maxUnavailable and maxSurge percentages round up; OnDelete has neither', () => {
    const ru = daemonSet({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%', maxSurge: 0 } });
    assert.equal(unavailableCount(ru, 3), 1);
    assert.equal(unavailableCount(ru, 25), 3);
    assert.equal(surgeCount(ru, 25), 0);
    const onDelete = daemonSet({}, { type: 'OnDelete' });
    assert.equal(unavailableCount(onDelete, 10), 0);
    assert.equal(surgeCount(onDelete, 10), 0);
  });
});

describe('Backoff', () => {
  it('starts at the initial delay, doubles up to the maximum, and forgets a key quiet for twice the maximum', () => {
    let t = 0;
    const b = new Backoff(1000, 4000, () => t);
    assert.equal(b.isInBackOffSinceUpdate('k'), false);
    b.next('k');
    assert.equal(b.get('k'), 1000);
    assert.equal(b.isInBackOffSinceUpdate('k'), true);
    t = 1000;
    assert.equal(b.isInBackOffSinceUpdate('k'), false);
    b.next('k');
    b.next('k');
    b.next('k');
    assert.equal(b.get('k'), 4000);
    t += 8001;
    b.next('k');
    assert.equal(b.get('k'), 1000);
    t += 8001;
    b.gc();
    assert.equal(b.get('k'), 0);
  });
});
