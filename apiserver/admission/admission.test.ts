import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { PriorityClass } from '../../lib/api/scheduling/priorityclass.js';
import { StatusError } from '../../lib/machinery/status.js';
import type { AdmissionRequest, RequestContext } from '../registry/store.js';
import { admitDefaultTolerationSeconds, admitPod, admitPriorityClass, type PriorityClassReader } from './index.js';

const ctx: RequestContext = { now: new Date(), dryRun: false };

function classes(...pcs: PriorityClass[]): PriorityClassReader {
  return {
    get: async (name) => pcs.find((p) => p.metadata.name === name),
    list: async () => pcs,
  };
}

function pc(name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass {
  return { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority', ...extra };
}

function pod(spec: Partial<Pod['spec']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } };
}

function create(obj: Pod | PriorityClass, name = obj.metadata.name ?? ''): AdmissionRequest {
  return { operation: 'CREATE', object: obj, name, namespace: 'default', ctx };
}

async function forbiddenMessage(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => assert.fail('expected a Forbidden error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StatusError, String(err));
  assert.equal(err.code, 403);
  return err.message;
}

test('Priority: a pod naming a class gets its value and preemption policy', async () => {
  const p = pod({ priorityClassName: 'high' });
  await admitPod(create(p), classes(pc('high', 1000, { preemptionPolicy: 'Never' })));
  assert.equal(p.spec.priority, 1000);
  assert.equal(p.spec.preemptionPolicy, 'Never');
});

test('Priority: without a class the global default applies, and its name is recorded', async () => {
  const p = pod();
  await admitPod(create(p), classes(pc('low', 10), pc('dflt', 50, { globalDefault: true }), pc('dflt2', 40, { globalDefault: true })));
  // Two defaults (a race): the lower value wins, as in Kubernetes.
  assert.equal(p.spec.priorityClassName, 'dflt2');
  assert.equal(p.spec.priority, 40);
});

test('Priority: without a class and without a default the priority is 0 and no policy is set', async () => {
  const p = pod();
  await admitPod(create(p), classes(pc('low', 10)));
  assert.equal(p.spec.priority, 0);
  assert.equal(p.spec.priorityClassName, undefined);
  assert.equal(p.spec.preemptionPolicy, undefined);
});

test('Priority: a missing class is Forbidden with Kubernetes\' message', async () => {
  const msg = await forbiddenMessage(admitPod(create(pod({ priorityClassName: 'nope' })), classes()));
  assert.equal(msg, 'pods "p" is forbidden: no PriorityClass with name nope was found');
  // A pod created by generateName has no name yet when admission runs.
  const msg2 = await forbiddenMessage(admitPod(create(pod({ priorityClassName: 'nope' }), ''), classes()));
  assert.equal(msg2, 'pods is forbidden: no PriorityClass with name nope was found');
});

test('Priority: a priority or policy that disagrees with the class is refused; an equal one passes', async () => {
  const high = classes(pc('high', 1000));
  const msg = await forbiddenMessage(admitPod(create(pod({ priorityClassName: 'high', priority: 5 })), high));
  assert.match(msg, /the integer value of priority \(5\) must not be provided in pod spec; priority admission controller computed 1000/);
  const msg2 = await forbiddenMessage(admitPod(create(pod({ priorityClassName: 'high', preemptionPolicy: 'Never' })), high));
  assert.match(msg2, /the string value of PreemptionPolicy \(Never\) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority/);
  const ok = pod({ priorityClassName: 'high', priority: 1000 });
  await admitPod(create(ok), high);
  assert.equal(ok.spec.priority, 1000);
});

test('Priority: an update that leaves priority out keeps the stored one', async () => {
  const old = pod({ priority: 7, preemptionPolicy: 'Never' });
  const next = pod();
  await admitPod({ operation: 'UPDATE', object: next, oldObject: old, name: 'p', ctx }, classes());
  assert.equal(next.spec.priority, 7);
  assert.equal(next.spec.preemptionPolicy, 'Never');
});

test('Priority: only one PriorityClass may be the global default', async () => {
  const existing = classes(pc('a', 1, { globalDefault: true }));
  const msg = await forbiddenMessage(admitPriorityClass(create(pc('b', 2, { globalDefault: true })), existing));
  assert.equal(msg, 'priorityclasses.scheduling.k8s.io "b" is forbidden: PriorityClass a is already marked as default. Only one default can exist');
  // Updating the default class itself, or a non-default class, is fine.
  await admitPriorityClass({ operation: 'UPDATE', object: pc('a', 1, { globalDefault: true, description: 'x' }), name: 'a', ctx }, existing);
  await admitPriorityClass(create(pc('c', 3)), existing);
  // Marking another class default while one exists is not.
  await forbiddenMessage(admitPriorityClass({ operation: 'UPDATE', object: pc('c', 3, { globalDefault: true }), name: 'c', ctx }, existing));
});

test('DefaultTolerationSeconds: adds the not-ready and unreachable tolerations unless present', () => {
  const p = pod({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }] });
  admitDefaultTolerationSeconds(create(p));
  assert.deepEqual(p.spec.tolerations, [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  // A toleration of everything (empty key and effect) covers both.
  const all = pod({ tolerations: [{ operator: 'Exists' }] });
  admitDefaultTolerationSeconds(create(all));
  assert.deepEqual(all.spec.tolerations, [{ operator: 'Exists' }]);
  // Updates get them too: a replacement written from the create's file has lost them.
  const upd = pod();
  admitDefaultTolerationSeconds({ operation: 'UPDATE', object: upd, oldObject: pod(), name: 'p', ctx });
  assert.deepEqual(upd.spec.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
});
