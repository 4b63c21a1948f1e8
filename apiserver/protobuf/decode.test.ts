import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/machinery/status.js';
import { decodeKubeProtobuf, encodeKubeProtobuf, EncodeError, isKubeProtobuf } from './decode.js';

// Bodies recorded from kubectl v1.32 (a throwaway HTTP server logged each POST body), each with
// the object kubectl prints for the same command with `--dry-run=client -o json` (Go's own JSON
// encoding), minus its `creationTimestamp: null`. Decoding the real bytes must give exactly that.
const kubectlBodies: { command: string; hex: string; want: Record<string, unknown> }[] = [
  {
    command: 'kubectl create configmap cm1 --from-literal=a=b --from-literal=empty= -n default',
    hex:
      '6b3873000a0f0a0276311209436f6e6669674d6170122f0a1a0a03636d3112001a0764656661756c7422002a00320038' +
      '00420012060a016112016212090a05656d70747912001a002200',
    want: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm1', namespace: 'default' },
      data: { a: 'b', empty: '' },
    },
  },
  {
    command: 'kubectl create namespace ns1',
    hex:
      '6b3873000a0f0a02763112094e616d657370616365121b0a130a036e733112001a0022002a0032003800420012001a02' +
      '0a001a002200',
    want: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ns1' },
      spec: {},
      status: {},
    },
  },
  {
    command: 'kubectl create secret generic s1 --from-literal=user=admin --from-file=blob=<00 01 fe ff "bin"> -n default',
    hex:
      '6b3873000a0c0a0276311206536563726574123d0a190a02733112001a0764656661756c7422002a0032003800420012' +
      '0f0a04626c6f6212070001feff62696e120d0a0475736572120561646d696e1a001a002200',
    want: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's1', namespace: 'default' },
      data: { blob: 'AAH+/2Jpbg==', user: 'YWRtaW4=' },
    },
  },
  {
    command: 'kubectl create serviceaccount sa1 -n default',
    hex:
      '6b3873000a140a027631120e536572766963654163636f756e74121c0a1a0a0373613112001a0764656661756c742200' +
      '2a003200380042001a002200',
    want: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'sa1', namespace: 'default' },
    },
  },
  {
    command: 'kubectl create deployment web --image=nginx:1.27 --image=busybox --replicas=3 --port=8080 -n default',
    hex:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412ee010a260a0377656212001a0764656661756c74' +
      '22002a003200380042005a0a0a03617070120377656212b5010803120c0a0a0a0361707012037765621a9a010a1c0a00' +
      '12001a0022002a003200380042005a0a0a036170701203776562127a12340a056e67696e78120a6e67696e783a312e32' +
      '372a00320b0a00100018903f22002a0042006a007200800100880100900100a2010012260a0762757379626f78120762' +
      '757379626f782a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a0100' +
      '9a0100c2010022020a00280038001a0c0800100018002000280038001a002200',
    want: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx:1.27',
                ports: [{ containerPort: 8080 }],
                resources: {},
              },
              { name: 'busybox', image: 'busybox', resources: {} },
            ],
          },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    command: 'kubectl create deployment zero --image=nginx --replicas=0 -n default',
    hex:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b6010a280a047a65726f12001a0764656661756c' +
      '7422002a003200380042005a0b0a0361707012047a65726f127c0800120d0a0b0a0361707012047a65726f1a610a1d0a' +
      '0012001a0022002a003200380042005a0b0a0361707012047a65726f124012220a056e67696e7812056e67696e782a00' +
      '42006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c201002202' +
      '0a00280038001a0c0800100018002000280038001a002200',
    want: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'zero', namespace: 'default', labels: { app: 'zero' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'zero' } },
        template: {
          metadata: { labels: { app: 'zero' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    command: 'kubectl create service nodeport np1 --tcp=80:8080 --node-port=30080 -n default',
    hex:
      '6b3873000a0d0a02763112075365727669636512710a260a036e703112001a0764656661756c7422002a003200380042' +
      '005a0a0a0361707012036e703112430a1d0a0738302d38303830120354435018502207080010903f1a002880eb01120a' +
      '0a0361707012036e70311a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200',
    want: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'np1', namespace: 'default', labels: { app: 'np1' } },
      spec: {
        ports: [
          {
            name: '80-8080',
            protocol: 'TCP',
            port: 80,
            targetPort: 8080,
            nodePort: 30080,
          },
        ],
        selector: { app: 'np1' },
        type: 'NodePort',
      },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'kubectl create service clusterip headless --clusterip=None -n default',
    hex:
      '6b3873000a0d0a02763112075365727669636512660a300a08686561646c65737312001a0764656661756c7422002a00' +
      '3200380042005a0f0a036170701208686561646c657373122e120f0a036170701208686561646c6573731a044e6f6e65' +
      '2209436c757374657249503a00420052005a00600068001a020a001a002200',
    want: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'headless', namespace: 'default', labels: { app: 'headless' } },
      spec: { selector: { app: 'headless' }, clusterIP: 'None', type: 'ClusterIP' },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'kubectl create rolebinding rb1 --role=r1 --user=bob --serviceaccount=default:sa1 -n default',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e' +
      '67128f010a1a0a0372623112001a0764656661756c7422002a0032003800420012280a04557365721219726261632e61' +
      '7574686f72697a6174696f6e2e6b38732e696f1a03626f62220012200a0e536572766963654163636f756e7412001a03' +
      '736131220764656661756c741a250a19726261632e617574686f72697a6174696f6e2e6b38732e696f1204526f6c651a' +
      '0272311a002200',
    want: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb1', namespace: 'default' },
      subjects: [
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
        { kind: 'ServiceAccount', name: 'sa1', namespace: 'default' },
      ],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r1' },
    },
  },
  {
    command: 'kubectl create job j1 --image=busybox -n default -- echo hi',
    hex:
      '6b3873000a0f0a0862617463682f763112034a6f62128b010a190a026a3112001a0764656661756c7422002a00320038' +
      '004200126432620a100a0012001a0022002a00320038004200124e122b0a026a31120762757379626f781a046563686f' +
      '1a0268692a0042006a007200800100880100900100a201001a054e65766572320042004a005200580060006800820100' +
      '8a01009a0100c201001a082000280030003a001a002200',
    want: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j1', namespace: 'default' },
      spec: {
        template: {
          metadata: {},
          spec: {
            containers: [
              { name: 'j1', image: 'busybox', command: ['echo', 'hi'], resources: {} },
            ],
            restartPolicy: 'Never',
          },
        },
      },
      status: {},
    },
  },
  {
    command: 'kubectl auth can-i create pods -n default',
    hex:
      '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a65637441636365' +
      '7373526576696577123f0a100a0012001a0022002a0032003800420012210a1f0a0764656661756c7412066372656174' +
      '651a0022002a04706f647332003a001a08080012001a0020001a002200',
    want: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: {
        resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' },
      },
      status: { allowed: false },
    },
  },
  {
    command: 'kubectl auth can-i get /healthz',
    hex:
      '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a65637441636365' +
      '7373526576696577122f0a100a0012001a0022002a003200380042001211120f0a082f6865616c74687a12036765741a' +
      '08080012001a0020001a002200',
    want: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } },
      status: { allowed: false },
    },
  },
  {
    command: 'kubectl auth whoami',
    hex:
      '6b3873000a2d0a1861757468656e7469636174696f6e2e6b38732e696f2f7631121153656c665375626a656374526576' +
      '696577121a0a100a0012001a0022002a0032003800420012060a040a0012001a002200',
    want: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: {},
      status: { userInfo: {} },
    },
  },
  {
    command: 'kubectl create token sa1 -n default --bound-object-kind=Pod --bound-object-name=p1 --bound-object-uid=1234',
    hex:
      '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374122f' +
      '0a100a0012001a0022002a0032003800420012151a130a03506f64120276311a0270312204313233341a040a0012001a' +
      '002200',
    want: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid: '1234' } },
      status: { token: '' },
    },
  },
  {
    command: 'kubectl auth can-i --list -n default',
    hex:
      '6b3873000a310a17617574686f72697a6174696f6e2e6b38732e696f2f7631121653656c665375626a65637452756c65' +
      '7352657669657712230a100a0012001a0022002a0032003800420012090a0764656661756c741a04180022001a002200',
    want: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: {},
      spec: { namespace: 'default' },
      status: { incomplete: false },
    },
  },
];
