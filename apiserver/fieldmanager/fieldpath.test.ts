import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FieldSet,
  FieldsV1ParseError,
  comparePE,
  deserializePE,
  fieldPE,
  fieldPath,
  fromFieldsV1,
  keyPE,
  pathString,
  serializePE,
  toFieldsV1,
  valuePE,
  indexPE,
  type Path,
} from './fieldpath.js';

/** csaDeploymentFieldsV1 is what kube-apiserver recorded for `kubectl apply` of an nginx Deployment (Kubernetes' own output). */
const csaDeploymentFieldsV1 = {
  'f:metadata': {
    'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
    'f:labels': { '.': {}, 'f:app': {} },
  },
  'f:spec': {
    'f:progressDeadlineSeconds': {},
    'f:replicas': {},
    'f:revisionHistoryLimit': {},
    'f:selector': {},
    'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
    'f:template': {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': {
            '.': {},
            'f:image': {},
            'f:imagePullPolicy': {},
            'f:name': {},
            'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
            'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:cpu': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
            'f:terminationMessagePath': {},
            'f:terminationMessagePolicy': {},
          },
        },
        'f:dnsPolicy': {},
        'f:restartPolicy': {},
        'f:schedulerName': {},
        'f:securityContext': {},
        'f:terminationGracePeriodSeconds': {},
      },
    },
  },
};

describe('FieldsV1', () => {
  it('round-trips a Deployment field set byte for byte, in Kubernetes key order', () => {
    const set = fromFieldsV1(csaDeploymentFieldsV1);
    assert.equal(JSON.stringify(toFieldsV1(set)), JSON.stringify(csaDeploymentFieldsV1));
    // Reading the same trie from text with its keys shuffled gives the same order back.
    const shuffled = JSON.parse(JSON.stringify(csaDeploymentFieldsV1), (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    );
    assert.equal(JSON.stringify(toFieldsV1(fromFieldsV1(JSON.stringify(shuffled)))), JSON.stringify(csaDeploymentFieldsV1));
  });

  it('reads `.` as membership of the node itself and leaves as members', () => {
    const set = fromFieldsV1(csaDeploymentFieldsV1);
    assert.ok(set.has(fieldPath('metadata', 'labels')));
    assert.ok(set.has(fieldPath('metadata', 'labels', 'app')));
    assert.ok(!set.has(fieldPath('spec')), 'f:spec has no `.`: it is not a member');
    assert.ok(set.has(fieldPath('spec', 'selector')));
    const port: Path = [...fieldPath('spec', 'template', 'spec', 'containers'), keyPE({ name: 'nginx' }), fieldPE('ports'), keyPE({ protocol: 'TCP', containerPort: 80 })];
    assert.ok(set.has(port), 'key fields are sorted by name whatever order they are given in');
    assert.ok(set.has([...port, fieldPE('protocol')]));
  });

  it('encodes set values, indexes and keys as Kubernetes does', () => {
    // Examples from k8s.io/apimachinery's managedfields tests.
    const set = FieldSet.of(
      [fieldPE('values'), valuePE(3), fieldPE('alsoPi')],
      [fieldPE('values'), valuePE(3.1415), fieldPE('pi')],
      [fieldPE('values'), valuePE(false), fieldPE('notTrue')],
      [fieldPE('list'), indexPE(5), fieldPE('i')],
      [fieldPE('finalizers'), valuePE('example.com/x')],
    );
    assert.deepEqual(toFieldsV1(set), {
      'f:finalizers': { 'v:"example.com/x"': {} },
      'f:list': { 'i:5': { 'f:i': {} } },
      'f:values': { 'v:3': { 'f:alsoPi': {} }, 'v:3.1415': { 'f:pi': {} }, 'v:false': { 'f:notTrue': {} } },
    });
    assert.deepEqual(fromFieldsV1(toFieldsV1(set)).paths().map(pathString), set.paths().map(pathString));
  });

  it('escapes HTML characters in keys and values as Go does', () => {
    assert.equal(serializePE(valuePE('a<b>&c')), 'v:"a\\u003cb\\u003e\\u0026c"');
    assert.deepEqual(deserializePE('v:"a\\u003cb"'), valuePE('a<b'));
  });

  it('drops unknown element kinds and rejects malformed ones', () => {
    assert.deepEqual(toFieldsV1(fromFieldsV1({ 'f:a': {}, 'x:future': {} })), { 'f:a': {} });
    assert.throws(() => fromFieldsV1({ 'k:{nope': {} }), FieldsV1ParseError);
    assert.throws(() => fromFieldsV1({ f: {} }), FieldsV1ParseError);
  });
});

describe('paths', () => {
  it('prints paths the way conflict messages show them', () => {
    assert.equal(pathString(fieldPath('spec', 'replicas')), '.spec.replicas');
    assert.equal(
      pathString([...fieldPath('spec', 'template', 'spec', 'containers'), keyPE({ name: 'web' }), fieldPE('ports'), keyPE({ containerPort: 80, protocol: 'TCP' })]),
      '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]',
    );
    assert.equal(pathString([fieldPE('metadata'), fieldPE('finalizers'), valuePE('a')]), '.metadata.finalizers[="a"]');
    assert.equal(pathString([fieldPE('args'), indexPE(2)]), '.args[2]');
  });

  it('orders elements: fields, keys, values, indexes; strings by bytes', () => {
    const pes = [indexPE(1), valuePE('b'), keyPE({ name: 'a' }), fieldPE('Z'), fieldPE('a'), valuePE(2)];
    assert.deepEqual(pes.sort(comparePE).map(serializePE), ['f:Z', 'f:a', 'k:{"name":"a"}', 'v:2', 'v:"b"', 'i:1']);
  });
});

describe('FieldSet', () => {
  const a = FieldSet.of(fieldPath('spec', 'replicas'), fieldPath('spec', 'template', 'x'), fieldPath('metadata', 'labels', 'app'));
  const b = FieldSet.of(fieldPath('spec', 'replicas'), fieldPath('metadata', 'labels'));

  it('intersects, unions and differences member by member', () => {
    assert.deepEqual(a.intersection(b).paths().map(pathString), ['.spec.replicas']);
    assert.deepEqual(a.union(b).paths().map(pathString), ['.metadata.labels', '.metadata.labels.app', '.spec.replicas', '.spec.template.x']);
    // A plain difference keeps what lies below a removed member.
    assert.deepEqual(a.difference(b).paths().map(pathString), ['.metadata.labels.app', '.spec.template.x']);
    // A recursive difference removes it too.
    assert.deepEqual(a.recursiveDifference(b).paths().map(pathString), ['.spec.template.x']);
  });

  it('keeps one subtree with only()', () => {
    const s = FieldSet.of(fieldPath('status', 'replicas'), fieldPath('spec', 'replicas'), fieldPath('status'));
    assert.deepEqual(s.only(fieldPath('status')).paths().map(pathString), ['.status', '.status.replicas']);
  });

  it('is empty only when no path is left', () => {
    assert.ok(new FieldSet().empty());
    assert.ok(a.difference(a).empty());
    assert.ok(!a.empty());
    assert.ok(a.equals(a.clone()));
    assert.ok(!a.equals(b));
  });
});
