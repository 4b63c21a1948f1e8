import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { invalid } from '../../machinery/status.js';
import { deployments } from './deployment.js';
import type { Deployment } from './types.js';

const ctx = { now: new Date('2024-05-01T10:05:00Z') };
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function deployment(mutate: (d: Deployment) => void = () => {}): Deployment {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T10:00:00Z', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  };
  mutate(d);
  return d;
}

/** defaulted is what the registry validates: the object after defaults. */
function defaulted(mutate?: (d: Deployment) => void): Deployment {
  const d = deployment(mutate);
  deployments.defaults!(d);
  return d;
}

const validate = (d: Deployment) => msgs(deployments.validate!(d));

test('a minimal Deployment gets exactly the apps/v1 defaults', () => {
  const d = defaulted();
  assert.deepEqual(d.spec, {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
            resources: {},
          },
        ],
        dnsPolicy: 'ClusterFirst',
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        securityContext: {},
        schedulerName: 'default-scheduler',
      },
    },
  });
});

test('defaults keep what the user set and give Recreate no rollingUpdate', () => {
  const d = defaulted((d) => {
    d.spec.replicas = 0;
    d.spec.strategy = { type: 'Recreate' };
    d.spec.revisionHistoryLimit = 0;
    d.spec.template!.spec!.containers![0].image = 'nginx';
  });
  assert.equal(d.spec.replicas, 0);
  assert.deepEqual(d.spec.strategy, { type: 'Recreate' });
  assert.equal(d.spec.revisionHistoryLimit, 0);
  // An image without a tag is :latest, which is pulled Always.
  assert.equal(d.spec.template!.spec!.containers![0].imagePullPolicy, 'Always');
});

test('a partly given rollingUpdate is completed', () => {
  const d = defaulted((d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 1 } }));
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } });
});

test('a valid Deployment has no errors', () => {
  assert.deepEqual(validate(defaulted()), []);
});

test('replicas must not be negative', () => {
  assert.deepEqual(validate(defaulted((d) => (d.spec.replicas = -1))), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
});

test('the selector must match the template labels, with Kubernetes message', () => {
  const errs = validate(defaulted((d) => (d.spec.template!.metadata!.labels = { app: 'other' })));
  assert.deepEqual(errs, ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`']);
});

test('a missing selector is required and then matches nothing', () => {
  const errs = validate(defaulted((d) => delete d.spec.selector));
  assert.deepEqual(errs, [
    'spec.selector: Required value',
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);
});

test('an empty selector is invalid', () => {
  const errs = deployments.validate!(defaulted((d) => (d.spec.selector = {})));
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec.selector');
  assert.equal(errs[0].detail, 'empty selector is invalid for deployment');
});

test('a selector with a bad operator is reported twice, as Kubernetes does', () => {
  const errs = validate(defaulted((d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Is' as never, values: ['web'] }] })));
  assert.equal(errs[0], 'spec.selector.matchExpressions[0].operator: Invalid value: "Is": not a valid selector operator');
  assert.match(errs[1], /^spec\.selector: Invalid value: .*: invalid label selector$/);
});

test('matchExpressions selectors match templates', () => {
  const d = defaulted((d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }));
  assert.deepEqual(validate(d), []);
});

test('maxUnavailable and maxSurge may not both be 0', () => {
  for (const zero of [0, '0%']) {
    const errs = deployments.validate!(defaulted((d) => (d.spec.strategy = { rollingUpdate: { maxUnavailable: zero, maxSurge: zero } })));
    assert.equal(errs.length, 1);
    assert.equal(errs[0].field, 'spec.strategy.rollingUpdate.maxUnavailable');
    assert.equal(errs[0].detail, 'may not be 0 when `maxSurge` is 0');
  }
  assert.deepEqual(validate(defaulted((d) => (d.spec.strategy = { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }))), []);
});

test('maxUnavailable may not exceed 100% and values must be percentages or non-negative', () => {
  let errs = deployments.validate!(defaulted((d) => (d.spec.strategy = { rollingUpdate: { maxUnavailable: '150%' } })));
  assert.deepEqual(
    errs.map((e) => [e.field, e.detail]),
    [['spec.strategy.rollingUpdate.maxUnavailable', 'must not be greater than 100%']],
  );
  errs = deployments.validate!(defaulted((d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 'abc', maxUnavailable: -1 } })));
  assert.deepEqual(
    errs.map((e) => [e.field, e.detail]),
    [
      ['spec.strategy.rollingUpdate.maxUnavailable', 'must be greater than or equal to 0'],
      [
        'spec.strategy.rollingUpdate.maxSurge',
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ],
    ],
  );
});

test('Recreate forbids rollingUpdate and unknown strategies are not supported', () => {
  let errs = validate(defaulted((d) => (d.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } })));
  assert.deepEqual(errs, ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]);
  errs = validate(defaulted((d) => (d.spec.strategy = { type: 'BlueGreen' })));
  assert.deepEqual(errs, ['spec.strategy: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"']);
});

test('the template must restart Always and have no activeDeadlineSeconds', () => {
  const errs = validate(
    defaulted((d) => {
      d.spec.template!.spec!.restartPolicy = 'OnFailure';
      d.spec.template!.spec!.activeDeadlineSeconds = 30;
    }),
  );
  assert.deepEqual(errs, [
    'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported',
  ]);
});

test('template containers need a name and an image', () => {
  assert.deepEqual(validate(defaulted((d) => (d.spec.template!.spec!.containers = [{ name: 'web' }]))), [
    'spec.template.spec.containers[0].image: Required value',
  ]);
  assert.deepEqual(validate(defaulted((d) => (d.spec.template!.spec!.containers = []))), ['spec.template.spec.containers: Required value']);
});

test('progressDeadlineSeconds must exceed minReadySeconds', () => {
  const errs = validate(
    defaulted((d) => {
      d.spec.minReadySeconds = 30;
      d.spec.progressDeadlineSeconds = 30;
    }),
  );
  assert.deepEqual(errs, ['spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds']);
});

test('the name must be a DNS subdomain', () => {
  const errs = deployments.validate!(defaulted((d) => (d.metadata.name = 'Web_1')));
  assert.deepEqual(
    errs.map((e) => e.field),
    ['metadata.name'],
  );
});

test('the selector is immutable in apps/v1', () => {
  const old = defaulted();
  const changed = defaulted((d) => (d.spec.selector = { matchLabels: { app: 'web', tier: 'front' } }));
  const errs = deployments.validateUpdate!(changed, old);
  assert.deepEqual(
    errs.map((e) => [e.field, e.detail]),
    [['spec.selector', 'field is immutable']],
  );
  // The same selector written with another key order, or rescaling, is not a change.
  const same = defaulted((d) => {
    d.spec.selector = { matchLabels: { app: 'web' }, matchExpressions: [] };
    d.spec.replicas = 5;
  });
  assert.deepEqual(deployments.validateUpdate!(same, old), []);
});

test('the Invalid status reads as kube-apiserver writes it', () => {
  const errs = deployments.validate!(defaulted((d) => (d.spec.replicas = -1)));
  assert.equal(
    invalid({ group: 'apps', kind: 'Deployment' }, 'web', errs).message,
    'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
});

test('create clears the status a client sent', () => {
  const d = defaulted((d) => (d.status = { replicas: 9, readyReplicas: 9 }));
  deployments.prepareForCreate!(d, ctx);
  assert.deepEqual(d.status, {});
});

test('an annotation-only update is a new generation; a metadata label change is not', () => {
  const old = defaulted((d) => (d.metadata.generation = 4));
  const annotated = defaulted((d) => {
    d.metadata.generation = 4;
    d.metadata.annotations = { 'kubernetes.io/change-cause': 'rollout' };
  });
  deployments.prepareForUpdate!(annotated, old, ctx);
  assert.equal(annotated.metadata.generation, 5);

  const labelled = defaulted((d) => {
    d.metadata.generation = 4;
    d.metadata.labels = { team: 'a' };
  });
  deployments.prepareForUpdate!(labelled, old, ctx);
  assert.equal(labelled.metadata.generation, 4);
});

test('status updates are checked against status.replicas and collisionCount may not go down', () => {
  const old = defaulted((d) => (d.status = { replicas: 3, collisionCount: 2 }));
  const next = defaulted((d) => (d.status = { replicas: 2, readyReplicas: 3, availableReplicas: 1, collisionCount: 1 }));
  assert.deepEqual(msgs(deployments.validateStatusUpdate!(next, old)), [
    'status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas',
    'status.collisionCount: Invalid value: 1: cannot be decremented',
  ]);
  const bad = defaulted((d) => (d.status = { replicas: 3, readyReplicas: 1, availableReplicas: 2 }));
  assert.deepEqual(msgs(deployments.validateStatusUpdate!(bad, bad)), ['status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas']);
});

test('names, categories and subresources are those of kube-apiserver', () => {
  assert.equal(deployments.group, 'apps');
  assert.deepEqual(deployments.shortNames, ['deploy']);
  assert.deepEqual(deployments.categories, ['all']);
  assert.equal(deployments.hasGeneration, true);
  assert.equal(deployments.subresources?.status, true);
  assert.equal(deployments.subresources?.scale?.specReplicasPath, '.spec.replicas');
  assert.equal(deployments.subresources?.scale?.statusReplicasPath, '.status.replicas');
});

test('the table has kubectl columns and cells', () => {
  const cols = deployments.printerColumns!;
  assert.deepEqual(
    cols.map((c) => [c.name, c.priority ?? 0]),
    [
      ['Name', 0],
      ['Ready', 0],
      ['Up-to-date', 0],
      ['Available', 0],
      ['Age', 0],
      ['Containers', 1],
      ['Images', 1],
      ['Selector', 1],
    ],
  );
  assert.equal(cols[0].format, 'name');
  const d = defaulted((d) => {
    d.spec.replicas = 3;
    d.spec.selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] };
    d.spec.template!.metadata!.labels = { app: 'web', tier: 'edge' };
    d.spec.template!.spec!.containers!.push({ name: 'log', image: 'busybox' });
    d.status = { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 };
  });
  assert.deepEqual(
    cols.map((c) => c.cell(d, ctx.now)),
    ['web', '2/3', 3, 2, '5m', 'web,log', 'nginx:1.27,busybox', 'app=web,tier in (edge,front)'],
  );
  // A brand-new Deployment has an empty status.
  const fresh = defaulted();
  fresh.status = {};
  assert.deepEqual(cols.slice(1, 4).map((c) => c.cell(fresh, ctx.now)), ['0/1', 0, 0]);
});

test('the scale selector is the selector string', () => {
  const d = defaulted();
  assert.equal(deployments.subresources!.scale!.selector!(d), 'app=web');
});
