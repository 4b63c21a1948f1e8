import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../../machinery/field-errors.js';
import type { ResourceDefinition } from '../resource.js';
import { computeQOSClass, isPodActive, isPodAvailable, isPodReady, podPhase, podRow, pods, type Pod } from './pod.js';
import { defaultPodSpec, defaultPodTemplateSpec, validatePodTemplateSpec } from './podspec.js';
import { Path } from '../../machinery/field-errors.js';
import { podRequests } from '../../pod/resources.js';
import type { PodTemplateSpec } from './types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = { now };

function create(obj: Pod): { pod: Pod; errs: string[] } {
  const pod = structuredClone(obj);
  pods.defaults!(pod);
  pods.prepareForCreate!(pod, ctx);
  return { pod, errs: pods.validate!(pod).map((e) => fieldErrorMessage(e)) };
}

/** update replays the registry's update: status kept, defaults, prepareForUpdate, validate + validateUpdate. */
function update(old: Pod, next: Pod): string[] {
  const pod = structuredClone(next);
  pod.metadata.resourceVersion = old.metadata.resourceVersion ?? '7';
  pod.status = structuredClone(old.status);
  pods.defaults!(pod);
  pods.prepareForUpdate?.(pod, old, ctx);
  return [...pods.validate!(pod), ...pods.validateUpdate!(pod, old)].map((e) => fieldErrorMessage(e));
}

function cells(def: ResourceDefinition<Pod>, obj: Pod): unknown[] {
  return def.printerColumns!.map((c) => c.cell(obj, now));
}

function minimal(extra: Partial<Pod['spec']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...extra } };
}

test('a minimal pod gets exactly the Kubernetes defaults and a Pending status', () => {
  const { pod, errs } = create(minimal());
  assert.deepEqual(errs, []);
  assert.deepEqual(pod.spec, {
    containers: [
      {
        name: 'app',
        image: 'nginx',
        imagePullPolicy: 'Always',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        resources: {},
      },
    ],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
  });
  assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
});

test('image pull policy follows the tag: latest or none pulls Always, a tag or digest IfNotPresent', () => {
  const images: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['registry.local:5000/team/app', 'Always'],
    ['registry.local:5000/team/app:v2', 'IfNotPresent'],
    ['busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'IfNotPresent'],
  ];
  for (const [image, policy] of images) {
    const { pod } = create({ ...minimal(), spec: { containers: [{ name: 'a', image }] } });
    assert.equal(pod.spec.containers[0].imagePullPolicy, policy, image);
  }
});

test('nested defaults: port protocol, probes, volumes, env fieldRef, hostNetwork ports, service account alias', () => {
  const { pod, errs } = create(
    minimal({
      hostNetwork: true,
      serviceAccount: 'builder',
      containers: [
        {
          name: 'app',
          image: 'nginx:1',
          ports: [{ containerPort: 8080 }],
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
          readinessProbe: { httpGet: { port: 8080 } },
          livenessProbe: { grpc: { port: 9000 } },
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
        },
      ],
      volumes: [{ name: 'cache' }, { name: 'cfg', configMap: { name: 'settings' } }],
    }),
  );
  assert.deepEqual(errs, []);
  const c = pod.spec.containers[0];
  assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: 'TCP', hostPort: 8080 }]);
  assert.deepEqual(c.readinessProbe, { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.livenessProbe?.grpc, { port: 9000, service: '' });
  assert.equal(c.env![0].valueFrom!.fieldRef!.apiVersion, 'v1');
  assert.deepEqual(pod.spec.volumes, [
    { name: 'cache', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'settings', defaultMode: 420 } },
  ]);
  assert.equal(pod.spec.serviceAccountName, 'builder');
  assert.equal(pod.spec.serviceAccount, 'builder');
});

test('requests default to limits, quantities come back canonical, and the QoS class is computed', () => {
  const guaranteed = create(minimal({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1000m', memory: '1024Mi' } } }] })).pod;
  assert.deepEqual(guaranteed.spec.containers[0].resources, { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } });
  assert.equal(guaranteed.status?.qosClass, 'Guaranteed');

  const burstable = create(minimal({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: 0.5 } } }] })).pod;
  assert.deepEqual(burstable.spec.containers[0].resources, { requests: { cpu: '500m' } });
  assert.equal(burstable.status?.qosClass, 'Burstable');

  // Requests that differ from limits keep the pod Burstable even when every limit is set.
  const split: Pod = minimal({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } } }] });
  assert.equal(create(split).pod.status?.qosClass, 'Burstable');
  // Sums across containers are exact: 100m + 200m equals 300m.
  const two: Pod = minimal({
    containers: [
      { name: 'a', image: 'x', resources: { limits: { cpu: '100m', memory: '1Gi' } } },
      { name: 'b', image: 'x', resources: { limits: { cpu: '200m', memory: '1Gi' } } },
    ],
  });
  assert.equal(create(two).pod.status?.qosClass, 'Guaranteed');
  assert.equal(computeQOSClass(minimal()), 'BestEffort');
});

test('pod validation reports Kubernetes messages and field paths', () => {
  const cases: [Partial<Pod['spec']>, string][] = [
    [{ containers: [] }, 'spec.containers: Required value'],
    [{ containers: [{ name: 'App', image: 'x' }] }, 'spec.containers[0].name: Invalid value: "App": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')'],
    [{ containers: [{ name: 'a' }] }, 'spec.containers[0].image: Required value'],
    [
      {
        containers: [
          { name: 'a', image: 'x' },
          { name: 'a', image: 'y' },
        ],
      },
      'spec.containers[1].name: Duplicate value: "a"',
    ],
    [{ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000 }] }] }, 'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    [{ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80, protocol: 'HTTP' }] }] }, 'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
    [{ restartPolicy: 'Sometimes' }, 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
    [{ containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Maybe' }] }, 'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"'],
    [{ containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/d' }] }] }, 'spec.containers[0].volumeMounts[0].name: Not found: "data"'],
    [
      { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1' }, requests: { cpu: '2' } } }] },
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ],
    [{ activeDeadlineSeconds: 0 }, 'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive'],
    [{ containers: [{ name: 'a', image: 'x', readinessProbe: {} }] }, 'spec.containers[0].readinessProbe: Required value: must specify a handler type'],
    [{ containers: [{ name: 'a', image: 'x', livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] }, 'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
    [{ volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] }, 'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type'],
    [{ tolerations: [{ operator: 'Equal', value: 'x' }] }, 'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"'],
    [{ containers: [{ name: 'a', image: 'x', env: [{ name: 'A=B', value: '1' }] }] }, 'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than \'=\''],
  ];
  for (const [spec, message] of cases) {
    const { errs } = create(minimal(spec));
    assert.ok(errs.includes(message), `${message}\n got: ${JSON.stringify(errs)}`);
  }
  const badName = create({ ...minimal(), metadata: { name: 'Web_1', namespace: 'default' } }).errs;
  assert.match(badName[0], /^metadata\.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain/);
});

test('ephemeral containers cannot be set on create, but an existing pod carrying them still validates', () => {
  const pod = minimal({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] });
  assert.ok(create(pod).errs.includes('spec.ephemeralContainers: Forbidden: cannot be set on create'));
  const stored = create(minimal()).pod;
  stored.metadata.resourceVersion = '5';
  stored.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }];
  assert.deepEqual(pods.validate!(stored).map((e) => fieldErrorMessage(e)), []);
});

test('pod updates may change images, shorten activeDeadlineSeconds and add tolerations, and nothing else', () => {
  const old = create(minimal({ activeDeadlineSeconds: 100, tolerations: [{ key: 'k', operator: 'Exists' }] })).pod;
  old.metadata.resourceVersion = '3';
  const ok = structuredClone(old);
  ok.spec.containers[0].image = 'nginx:1.27';
  ok.spec.activeDeadlineSeconds = 50;
  ok.spec.tolerations!.push({ key: 'other', operator: 'Exists', effect: 'NoSchedule' });
  assert.deepEqual(update(old, ok), []);

  const nodeName = structuredClone(old);
  nodeName.spec.nodeName = 'node-1';
  const errs = update(old, nodeName);
  assert.equal(errs.length, 1);
  assert.ok(
    errs[0].startsWith(
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    ),
    errs[0],
  );
  assert.match(errs[0], /\+ \tNodeName: "node-1"/);

  const added = structuredClone(old);
  added.spec.containers.push({ name: 'b', image: 'x' });
  assert.deepEqual(update(old, added), ['spec.containers: Forbidden: pod updates may not add or remove containers']);

  const longer = structuredClone(old);
  longer.spec.activeDeadlineSeconds = 200;
  assert.deepEqual(update(old, longer), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']);

  const dropped = structuredClone(old);
  dropped.spec.tolerations = [];
  assert.deepEqual(update(old, dropped), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
});

test('status updates keep the QoS class: backfilled when dropped, rejected when changed', () => {
  const old = create(minimal()).pod;
  const next = structuredClone(old);
  next.status = { phase: 'Running' };
  pods.prepareForStatusUpdate!(next, old, ctx);
  assert.equal(next.status!.qosClass, 'BestEffort');
  assert.deepEqual(pods.validateStatusUpdate!(next, old), []);
  next.status!.qosClass = 'Guaranteed';
  assert.deepEqual(pods.validateStatusUpdate!(next, old).map((e) => fieldErrorMessage(e)), ['status.qosClass: Invalid value: "Guaranteed": field is immutable']);
});

test('a terminated container of a Never pod may not be reported running again', () => {
  const old = create(minimal({ restartPolicy: 'Never' })).pod;
  old.status!.containerStatuses = [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }];
  const next = structuredClone(old);
  next.status!.containerStatuses = [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }];
  assert.deepEqual(pods.validateStatusUpdate!(next, old).map((e) => fieldErrorMessage(e)), [
    'status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state',
  ]);
});

test('a gated pod gets a PodScheduled=False SchedulingGated condition and the table says so', () => {
  const { pod } = create(minimal({ schedulingGates: [{ name: 'example.com/wait' }] }));
  assert.deepEqual(pod.status!.conditions, [
    {
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: '2024-05-01T12:00:00Z',
      reason: 'SchedulingGated',
      message: 'Scheduling is blocked due to non-empty scheduling gates',
    },
  ]);
  assert.equal(podRow(pod, now).status, 'SchedulingGated');
});

function running(extra: Partial<Pod> = {}): Pod {
  const pod = create(minimal()).pod;
  pod.metadata.creationTimestamp = '2024-05-01T10:00:00Z';
  pod.spec.nodeName = 'node-1';
  pod.status = {
    phase: 'Running',
    podIP: '10.244.1.5',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: '2024-05-01T10:00:05Z' } } }],
  };
  pods.defaults!(pod);
  return { ...pod, ...extra };
}

test('table cells for a running pod match kubectl get pods -o wide', () => {
  const pod = running();
  assert.deepEqual(
    pods.printerColumns!.map((c) => c.name),
    ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
  );
  assert.deepEqual(cells(pods, pod), ['web', '1/1', 'Running', '0', '120m', '10.244.1.5', 'node-1', '<none>', '<none>']);
  assert.equal(pods.printerColumns![5].priority, 1);
  assert.ok(isPodReady(pod));
  assert.equal(podPhase(pod), 'Running');
});

test('table: pending pods, crash loops with last restart age, init containers, completion, deletion', () => {
  const pending = create(minimal()).pod;
  assert.deepEqual(cells(pods, pending).slice(1, 4), ['0/1', 'Pending', '0']);
  assert.deepEqual(cells(pods, pending).slice(5), ['<none>', '<none>', '<none>', '<none>']);

  const crash = running();
  crash.status!.containerStatuses = [
    {
      name: 'app',
      ready: false,
      restartCount: 3,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2024-05-01T11:55:00Z' } },
    },
  ];
  assert.deepEqual(cells(pods, crash).slice(1, 4), ['0/1', 'CrashLoopBackOff', '3 (5m ago)']);

  const init = running();
  init.spec.initContainers = [
    { name: 'migrate', image: 'x' },
    { name: 'seed', image: 'x' },
  ];
  init.status = {
    phase: 'Pending',
    initContainerStatuses: [
      { name: 'migrate', ready: false, restartCount: 0, state: { running: {} } },
      { name: 'seed', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
    ],
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
  };
  assert.equal(podRow(init, now).status, 'Init:0/2');
  init.status.initContainerStatuses![0].state = { terminated: { exitCode: 2, reason: 'Error' } };
  assert.equal(podRow(init, now).status, 'Init:Error');
  init.status.initContainerStatuses![0].state = { terminated: { exitCode: 137 } };
  assert.equal(podRow(init, now).status, 'Init:ExitCode:137');

  const sidecar = running();
  sidecar.spec.initContainers = [{ name: 'proxy', image: 'x', restartPolicy: 'Always' }];
  sidecar.status!.initContainerStatuses = [{ name: 'proxy', ready: true, started: true, restartCount: 0, state: { running: {} } }];
  assert.deepEqual(podRow(sidecar, now).ready, '2/2');

  const done = running();
  done.status = {
    phase: 'Succeeded',
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
  };
  assert.equal(podRow(done, now).status, 'Completed');

  const deleting = running();
  deleting.metadata.deletionTimestamp = '2024-05-01T11:59:00Z';
  assert.equal(podRow(deleting, now).status, 'Terminating');
  deleting.status!.reason = 'NodeLost';
  assert.equal(podRow(deleting, now).status, 'Unknown');

  const gated = running();
  gated.spec.readinessGates = [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }];
  gated.status!.conditions!.push({ type: 'example.com/lb', status: 'True' });
  assert.equal(podRow(gated, now).readinessGates, '1/2');
});

test('field selectors give Kubernetes values, with "" for an unscheduled pod', () => {
  const pod = create(minimal()).pod;
  const f = pods.fieldSelectors!;
  assert.equal(f['spec.nodeName'](pod), '');
  assert.equal(f['spec.hostNetwork'](pod), 'false');
  assert.equal(f['spec.restartPolicy'](pod), 'Always');
  assert.equal(f['spec.schedulerName'](pod), 'default-scheduler');
  assert.equal(f['status.phase'](pod), 'Pending');
  const r = running();
  assert.equal(f['spec.nodeName'](r), 'node-1');
  assert.equal(f['status.podIP'](r), '10.244.1.5');
  assert.deepEqual(Object.keys(f).sort(), [
    'spec.hostNetwork',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.nominatedNodeName',
    'status.phase',
    'status.podIP',
  ]);
});

test('graceful deletion: bound running pods get their grace period, unbound or finished pods go at once', () => {
  const r = running();
  assert.deepEqual(pods.gracefulDelete!(r, undefined), { graceful: true, gracePeriodSeconds: 30 });
  assert.deepEqual(pods.gracefulDelete!(r, 5), { graceful: true, gracePeriodSeconds: 5 });
  assert.deepEqual(pods.gracefulDelete!(r, 0), { graceful: false, gracePeriodSeconds: 0 });
  assert.deepEqual(pods.gracefulDelete!(r, -3), { graceful: true, gracePeriodSeconds: 1 });
  assert.deepEqual(pods.gracefulDelete!(create(minimal()).pod, 30), { graceful: false, gracePeriodSeconds: 0 });
  const done = running();
  done.status!.phase = 'Failed';
  assert.deepEqual(pods.gracefulDelete!(done, undefined), { graceful: false, gracePeriodSeconds: 0 });
});

test('pod templates: defaults without Pod-only fields, and template validation paths', () => {
  const spec = { containers: [{ name: 'a', image: 'nginx:1', resources: { limits: { cpu: '1' } } }] };
  defaultPodSpec(spec);
  assert.equal((spec as Record<string, unknown>).enableServiceLinks, undefined);
  assert.deepEqual(spec.containers[0].resources, { limits: { cpu: '1' } });
  const errs = validatePodTemplateSpec({ metadata: { labels: { app: 'web' } }, spec: { ...spec, restartPolicy: 'Never', ephemeralContainers: [{ name: 'd', image: 'x' }] } }, new Path('spec').child('template'));
  assert.ok(errs.map((e) => fieldErrorMessage(e)).includes('spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template'));
  const template: PodTemplateSpec = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } };
  defaultPodTemplateSpec(template);
  assert.deepEqual(template.metadata, { labels: { app: 'web' }, creationTimestamp: null });
  assert.equal(template.spec.containers[0].imagePullPolicy, 'Always');
  assert.deepEqual(validatePodTemplateSpec(template, new Path('spec').child('template')), []);
});

test('declaration names match kubectl api-resources', () => {
  assert.equal(pods.plural, 'pods');
  assert.deepEqual(pods.shortNames, ['po']);
  assert.deepEqual(pods.categories, ['all']);
  assert.equal(pods.namespaced, true);
  assert.equal(pods.subresources?.status, true);
});

test('controller helpers: active, available after minReadySeconds, and scheduler requests with init containers', () => {
  const r = running();
  r.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-05-01T11:59:50Z' }];
  assert.ok(isPodActive(r));
  assert.ok(isPodAvailable(r, 0, now));
  assert.ok(!isPodAvailable(r, 30, now));
  assert.ok(isPodAvailable(r, 5, now));
  const deleting = running();
  deleting.metadata.deletionTimestamp = '2024-05-01T11:59:00Z';
  assert.ok(!isPodActive(deleting));

  const pod = create(
    minimal({
      containers: [{ name: 'app', image: 'x', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
      initContainers: [
        { name: 'proxy', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
        { name: 'migrate', image: 'x', resources: { requests: { cpu: '500m', memory: '32Mi' } } },
      ],
    }),
  ).pod;
  const req = podRequests(pod);
  // migrate runs with the proxy already up: 500m + 50m beats the 150m of app + proxy.
  assert.equal(req.get('cpu'), 550_000_000n);
  assert.equal(req.get('memory'), 64n * 1024n * 1024n * 1_000_000_000n);
});
