import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { type CoreEvent, type Event, eventFromCore, eventToCore, eventsV1 } from './event.js';

const now = new Date('2024-05-01T10:10:00Z');
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function event(mutate: (e: Event) => void = () => {}): Event {
  const e: Event = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'web-1.17c8e2a1b4f5', namespace: 'shop', creationTimestamp: '2024-05-01T10:00:00Z' },
    eventTime: '2024-05-01T10:00:00.123456Z',
    reportingController: 'kubelet',
    reportingInstance: 'node-1',
    action: 'Pulling',
    reason: 'Pulling',
    regarding: { kind: 'Pod', namespace: 'shop', name: 'web-1', uid: 'u-1', apiVersion: 'v1', fieldPath: 'spec.containers{web}' },
    note: 'Pulling image "nginx:1.27"\n',
    type: 'Normal',
  };
  mutate(e);
  eventsV1.defaults!(e);
  return e;
}

const validate = (e: Event) => msgs(eventsV1.validate!(e));

test('an events.k8s.io/v1 event is valid and comes back with Go zero values filled in', () => {
  const e = event();
  assert.deepEqual(validate(e), []);
  assert.deepEqual(e.deprecatedSource, {});
  assert.equal(e.deprecatedFirstTimestamp, null);
  assert.equal(e.deprecatedLastTimestamp, null);
});

test('strict create validation: eventTime, type and the deprecated fields', () => {
  assert.deepEqual(
    validate(
      event((e) => {
        e.eventTime = null;
        e.type = 'Info';
      }),
    ),
    ['eventTime: Required value', 'type: Invalid value: "": has invalid value: Info'],
  );
  assert.deepEqual(
    validate(
      event((e) => {
        e.deprecatedFirstTimestamp = '2024-05-01T10:00:00Z';
        e.deprecatedCount = 3;
        e.deprecatedSource = { component: 'kubelet' };
      }),
    ),
    ['firstTimestamp: Invalid value: "": needs to be unset', 'count: Invalid value: "": needs to be unset', 'source: Invalid value: "": needs to be unset'],
  );
});

test('legacy validation: reporting fields, action, reason and namespaces', () => {
  assert.deepEqual(
    validate(
      event((e) => {
        delete e.reportingInstance;
        delete e.action;
        e.reason = 'x'.repeat(129);
        e.regarding = { kind: 'Node', name: 'node-1' };
      }),
    ),
    [
      'involvedObject.namespace: Invalid value: "": does not match event.namespace',
      'reportingInstance: Required value',
      'action: Required value',
      'reason: Invalid value: "": can have at most 128 characters',
    ],
  );
  // Events about cluster-scoped objects live in default (or kube-system).
  assert.deepEqual(
    validate(
      event((e) => {
        e.metadata.namespace = 'default';
        e.regarding = { kind: 'Node', name: 'node-1' };
      }),
    ),
    [],
  );
  const noController = validate(event((e) => delete e.reportingController));
  assert.equal(noController[0], 'reportingController: Required value');
});

test('a series needs count >= 2 and lastObservedTime', () => {
  assert.deepEqual(validate(event((e) => (e.series = { count: 1, lastObservedTime: '' }))), [
    'series.count: Invalid value: "": should be at least 2',
    'series.lastObservedTime: Required value',
  ]);
});

test('updates may change the series only', () => {
  const old = event();
  const repeated = event((e) => (e.series = { count: 2, lastObservedTime: '2024-05-01T10:05:00.000000Z' }));
  assert.deepEqual(eventsV1.validateUpdate!(repeated, old), []);
  const edited = event((e) => {
    e.note = 'edited';
    e.regarding = { ...e.regarding, name: 'web-2' };
  });
  assert.deepEqual(
    eventsV1.validateUpdate!(edited, old).map((e) => [e.field, e.detail]),
    [
      ['involvedObject', 'field is immutable'],
      ['message', 'field is immutable'],
    ],
  );
});

test('the event table, as kubectl get events prints it', () => {
  const cols = eventsV1.printerColumns!;
  assert.deepEqual(
    cols.map((c) => [c.name, c.priority ?? 0]),
    [
      ['Last Seen', 0],
      ['Type', 0],
      ['Reason', 0],
      ['Object', 0],
      ['Subobject', 1],
      ['Source', 1],
      ['Message', 0],
      ['First Seen', 1],
      ['Count', 1],
      ['Name', 1],
    ],
  );
  assert.equal(cols[9].format, 'name');
  const single = event();
  assert.deepEqual(
    cols.map((c) => c.cell(single, now)),
    ['9m59s', 'Normal', 'Pulling', 'pod/web-1', 'spec.containers{web}', 'kubelet, node-1', 'Pulling image "nginx:1.27"', '9m59s', 1, 'web-1.17c8e2a1b4f5'],
  );
  const repeated = event((e) => (e.series = { count: 7, lastObservedTime: '2024-05-01T10:09:30.000000Z' }));
  assert.deepEqual([cols[0].cell(repeated, now), cols[8].cell(repeated, now)], ['30s', 7]);
  const clusterScoped = event((e) => (e.regarding = { kind: 'Node' }));
  assert.equal(cols[3].cell(clusterScoped, now), 'node');
});

test('field selectors events.k8s.io/v1 supports', () => {
  const e = event();
  const fs = eventsV1.fieldSelectors!;
  assert.deepEqual(Object.keys(fs).sort(), [
    'reason',
    'regarding.apiVersion',
    'regarding.fieldPath',
    'regarding.kind',
    'regarding.name',
    'regarding.namespace',
    'regarding.resourceVersion',
    'regarding.uid',
    'reportingController',
    'source',
    'type',
  ]);
  assert.equal(fs['regarding.kind'](e), 'Pod');
  assert.equal(fs['regarding.name'](e), 'web-1');
  assert.equal(fs['regarding.resourceVersion'](e), '');
  assert.equal(fs.reportingController(e), 'kubelet');
  assert.equal(fs.source(e), 'kubelet');
  assert.equal(fs.type(e), 'Normal');
});

test('core/v1 and events.k8s.io/v1 shapes convert into each other', () => {
  const core: CoreEvent = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-1.1', namespace: 'shop' },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop' },
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2024-05-01T10:00:00Z',
    lastTimestamp: '2024-05-01T10:05:00Z',
    count: 4,
    type: 'Warning',
    eventTime: null,
  };
  const v1 = eventFromCore(core);
  assert.equal(v1.note, 'Back-off restarting failed container');
  assert.deepEqual(v1.regarding, core.involvedObject);
  assert.equal(v1.deprecatedCount, 4);
  assert.deepEqual(v1.deprecatedSource, { component: 'kubelet', host: 'node-1' });
  assert.deepEqual(eventToCore(v1), core);
  // An event written through the core API prints with its core timestamps and count.
  const cols = eventsV1.printerColumns!;
  assert.deepEqual([cols[0].cell(v1, now), cols[7].cell(v1, now), cols[8].cell(v1, now), cols[5].cell(v1, now)], ['5m', '10m', 4, 'kubelet, node-1']);
});
