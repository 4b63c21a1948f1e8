import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SchedulerConfigError, buildFramework, defaultSchedulerConfig, loadSchedulerConfig, parseSchedulerConfig } from './config.js';
import { CycleState } from './framework/cyclestate.js';
import { schedulePod } from './framework/framework.js';
import { newSnapshot } from './framework/snapshot.js';
import { unschedulable } from './framework/status.js';
import { makeNode, makePod } from './framework/testing.js';

const header = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';
const noPreemption = { DefaultPreemption: () => ({ name: 'DefaultPreemption', postFilter: () => ({ status: unschedulable('x') }) }) };

describe('defaults', () => {
  it('without a file: one default-scheduler profile, MostAllocated, kube’s weights, BalancedAllocation off', () => {
    const cfg = loadSchedulerConfig();
    assert.equal(cfg.percentageOfNodesToScore, 0);
    assert.equal(cfg.podInitialBackoffSeconds, 1);
    assert.equal(cfg.podMaxBackoffSeconds, 10);
    assert.equal(cfg.profiles.length, 1);
    const p = cfg.profiles[0];
    assert.equal(p.schedulerName, 'default-scheduler');
    assert.deepEqual(p.plugins.filter, ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity']);
    assert.deepEqual(p.plugins.preFilter, ['NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity']);
    assert.deepEqual(p.plugins.postFilter, ['DefaultPreemption']);
    assert.deepEqual(p.plugins.score, [
      { name: 'TaintToleration', weight: 3 },
      { name: 'NodeAffinity', weight: 2 },
      { name: 'NodeResourcesFit', weight: 1 },
      { name: 'PodTopologySpread', weight: 2 },
      { name: 'InterPodAffinity', weight: 2 },
    ]);
    assert.deepEqual(p.pluginConfig.NodeResourcesFit, {
      scoringStrategy: {
        type: 'MostAllocated',
        resources: [
          { name: 'cpu', weight: 1 },
          { name: 'memory', weight: 1 },
        ],
      },
    });
  });

  it('a file with only apiVersion and kind is the defaults', () => {
    assert.deepEqual(parseSchedulerConfig(header), defaultSchedulerConfig());
  });
});

describe('profiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-schedcfg-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads YAML: several profiles, weights, disabled plugins, pluginConfig', () => {
    const path = join(dir, 'sched.yaml');
    writeFileSync(
      path,
      `${header}percentageOfNodesToScore: 20
profiles:
- schedulerName: default-scheduler
- schedulerName: spread
  percentageOfNodesToScore: 50
  plugins:
    multiPoint:
      disabled:
      - name: InterPodAffinity
    score:
      enabled:
      - name: NodeResourcesBalancedAllocation
        weight: 2
      - name: NodeResourcesFit
        weight: 5
      disabled:
      - name: TaintToleration
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: LeastAllocated
        resources:
        - name: cpu
          weight: 3
        - name: memory
`,
    );
    const cfg = loadSchedulerConfig(path);
    assert.equal(cfg.percentageOfNodesToScore, 20);
    assert.deepEqual(
      cfg.profiles.map((p) => p.schedulerName),
      ['default-scheduler', 'spread'],
    );
    const spread = cfg.profiles[1];
    assert.equal(spread.percentageOfNodesToScore, 50);
    assert.ok(!spread.plugins.filter.includes('InterPodAffinity'));
    assert.ok(spread.plugins.filter.includes('TaintToleration'), 'disabled at score only');
    assert.deepEqual(spread.plugins.score, [
      // Plugins configured at the point that multiPoint also has keep the point's order and weight, first.
      { name: 'NodeResourcesFit', weight: 5 },
      { name: 'NodeAffinity', weight: 2 },
      { name: 'PodTopologySpread', weight: 2 },
      { name: 'NodeResourcesBalancedAllocation', weight: 2 },
    ]);
    assert.deepEqual(spread.plugins.preScore, ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread']);
    assert.deepEqual(spread.pluginConfig.NodeResourcesFit, {
      scoringStrategy: {
        type: 'LeastAllocated',
        resources: [
          { name: 'cpu', weight: 3 },
          { name: 'memory', weight: 1 },
        ],
      },
    });

    // The profile builds and its strategy is in force: the emptier node wins.
    const fwk = buildFramework(spread, { registry: noPreemption });
    const snap = newSnapshot([makeNode('busy'), makeNode('idle')], [makePod('x', { nodeName: 'busy', cpu: '2', memory: '4Gi' })]);
    assert.equal(schedulePod(fwk, new CycleState(), makePod('p', { cpu: '1' }), snap, { nextStartNodeIndex: 0 }).suggestedHost, 'idle');
  });

  it('reads JSON too', () => {
    const path = join(dir, 'sched.json');
    writeFileSync(path, JSON.stringify({ apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration', profiles: [{ schedulerName: 'j', plugins: { filter: { disabled: [{ name: '*' }] } } }] }));
    const p = loadSchedulerConfig(path).profiles[0];
    assert.equal(p.schedulerName, 'j');
    assert.deepEqual(p.plugins.filter, []);
    assert.ok(p.plugins.preFilter.includes('NodeResourcesFit'), 'preFilter keeps its defaults');
  });

  it('a missing file is a clear error', () => {
    assert.throws(() => loadSchedulerConfig(join(dir, 'nope.yaml')), (e: unknown) => e instanceof SchedulerConfigError && /reading scheduler configuration .*nope\.yaml: ENOENT/.test(e.message));
  });
});

describe('validation errors name the field', () => {
  const cases: [string, string, RegExp][] = [
    ['wrong apiVersion', 'apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n', /apiVersion: Unsupported value: "kubescheduler.config.k8s.io\/v1beta3": supported values: "kubescheduler.config.k8s.io\/v1"/],
    ['missing kind', 'apiVersion: kubescheduler.config.k8s.io/v1\n', /kind: Required value/],
    ['unknown top-level field', `${header}percentageOfNodes: 5\n`, /percentageOfNodes: Forbidden: unknown field/],
    ['percentage out of range', `${header}percentageOfNodesToScore: 120\n`, /percentageOfNodesToScore: Invalid value: 120: not in valid range \[0-100\]/],
    [
      'unknown plugin',
      `${header}profiles:\n- plugins:\n    score:\n      enabled:\n      - name: ImageLocality\n`,
      /profiles\[0\]\.plugins\.score\.enabled\[0\]\.name: Invalid value: "ImageLocality": unknown plugin/,
    ],
    [
      'plugin at a point it does not implement',
      `${header}profiles:\n- plugins:\n    score:\n      enabled:\n      - name: NodePorts\n`,
      /profiles\[0\]\.plugins\.score\.enabled\[0\]\.name: Invalid value: "NodePorts": plugin does not extend score/,
    ],
    [
      'bad weight',
      `${header}profiles:\n- plugins:\n    score:\n      enabled:\n      - name: NodeAffinity\n        weight: -1\n`,
      /profiles\[0\]\.plugins\.score\.enabled\[0\]\.weight: Invalid value: -1/,
    ],
    [
      'unknown strategy',
      `${header}profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Packed\n`,
      /profiles\[0\]\.pluginConfig\[0\]\.args\.scoringStrategy\.type: Unsupported value: "Packed": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"/,
    ],
    [
      'resource weight out of range',
      `${header}profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        resources:\n        - name: cpu\n          weight: 0\n`,
      /scoringStrategy\.resources\[0\]\.weight: Invalid value: 0: resource weight of cpu not in valid range \[1-100\]/,
    ],
    [
      'RequestedToCapacityRatio without a shape',
      `${header}profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: RequestedToCapacityRatio\n`,
      /scoringStrategy\.requestedToCapacityRatio: Required value/,
    ],
    ['duplicate profile', `${header}profiles:\n- schedulerName: a\n- schedulerName: a\n`, /profiles\[1\]\.schedulerName: Duplicate value: "a"/],
    [
      'unsupported extension point',
      `${header}profiles:\n- plugins:\n    permit:\n      enabled:\n      - name: Coscheduling\n`,
      /profiles\[0\]\.plugins\.permit\.enabled\[0\]: Forbidden: extension point permit is not supported/,
    ],
    [
      'unsupported PodTopologySpread defaulting type',
      `${header}profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: Cluster\n`,
      /pluginConfig\[0\]\.args\.defaultingType: Unsupported value: "Cluster": supported values: "System", "List"/,
    ],
    [
      'System defaulting with constraints',
      `${header}profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: System\n      defaultConstraints:\n      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n`,
      /pluginConfig\[0\]\.args\.defaultingType: Invalid value: "System": when \.defaultConstraints are not empty/,
    ],
    [
      'a default constraint with a selector, a bad skew and a repeat',
      `${header}profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: List\n      defaultConstraints:\n      - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {}}\n      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n`,
      /defaultConstraints\[0\]\.maxSkew: Invalid value: 0: not in valid range \(0, inf\).*defaultConstraints\[0\]\.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod.*defaultConstraints\[1\]: Duplicate value: "\{zone, DoNotSchedule\}"/,
    ],
    ['args for a plugin without args', `${header}profiles:\n- pluginConfig:\n  - name: NodePorts\n    args: {}\n`, /pluginConfig\[0\]\.name: Invalid value: "NodePorts": plugin takes no args/],
    ['unknown args field', `${header}profiles:\n- pluginConfig:\n  - name: InterPodAffinity\n    args:\n      hardWeight: 3\n`, /pluginConfig\[0\]\.args\.hardWeight: Forbidden: unknown field/],
    ['not YAML', `${header}profiles: [\n`, /decoding test\.yaml:/],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.throws(() => parseSchedulerConfig(text, 'test.yaml'), (e: unknown) => e instanceof SchedulerConfigError && want.test(e.message)));
  }

  it('several errors are reported together', () => {
    assert.throws(
      () => parseSchedulerConfig(`${header}percentageOfNodesToScore: -1\npodMaxBackoffSeconds: 0\n`, 'x'),
      (e: unknown) => e instanceof SchedulerConfigError && e.fieldErrors.length === 2 && e.message.startsWith('invalid scheduler configuration in x: ['),
    );
  });
});
