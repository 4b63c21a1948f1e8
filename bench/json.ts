// The JSON benchmark (`npm run bench -- json`): what keeping int64 digits (lib/machinery/json.ts)
// costs on the write and read paths, against plain JSON.parse and JSON.stringify, on the same
// objects in one run on this machine:
//
//   1. a typical Pod body (managed fields, a UID, no integer beyond 2^53): the fast path, where
//      parseJSON is JSON.parse plus one regular-expression test;
//   2. the same Pod with a 19-digit annotation (a string: the digit test matches, then a walk
//      over JSON.parse's result finds no rounded integer);
//   3. the same Pod with terminationGracePeriodSeconds at 2^63-1: the exact (lossless-json) parser;
//   4. stringifyJSON of 1 and of 3 (JSON.stringify, and the exact writer after its TypeError).
//
// Each figure is the median of --rounds rounds of --iterations calls; the ratio is to the plain
// JSON call on the same text. Figures only.
//
// Options: --iterations=N --rounds=N

import { performance } from 'node:perf_hooks';
import { parseJSON, stringifyJSON } from '../lib/machinery/json.js';
import { parseOptions, progress } from './lib/cli.js';

const opts = parseOptions('json', process.argv.slice(2), { iterations: 20000, rounds: 7 });

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-7d9f8b6c5d-x2k4q',
    namespace: 'default',
    uid: '0b5e7c2e-6f0a-4c55-9a6e-6f1b8d2c9e11',
    resourceVersion: '123456',
    labels: { app: 'web', 'pod-template-hash': '7d9f8b6c5d' },
    annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-02T03:04:05Z' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8b6c5d', uid: '6a1c9e1e-2b7f-4f7e-8a4b-3f2e1d0c9b8a', controller: true, blockOwnerDeletion: true }],
    managedFields: [
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2024-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {} } } } },
      },
    ],
  },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'nginx:1.25',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 10 },
      },
    ],
    terminationGracePeriodSeconds: 30,
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  },
  status: { phase: 'Pending', qosClass: 'Burstable' },
};

const typical = JSON.stringify(pod);
const digitsInString = JSON.stringify({ ...pod, metadata: { ...pod.metadata, annotations: { 'deployment.kubernetes.io/revision': '3546343826724305832' } } });
const int64 = typical.replace('"terminationGracePeriodSeconds":30', '"terminationGracePeriodSeconds":9223372036854775807');

/** timePerCall is the median over rounds of the mean time of one call, in microseconds. */
function timePerCall(fn: () => unknown): number {
  const rounds: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < opts.iterations; i++) fn();
    rounds.push(((performance.now() - t0) * 1000) / opts.iterations);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

function compare(what: string, plain: () => unknown, exact: () => unknown): void {
  // Warm both up first, so neither pays for compilation in its figure.
  timePerCall(plain);
  timePerCall(exact);
  const p = timePerCall(plain);
  const e = timePerCall(exact);
  progress(`${what}: plain ${p.toFixed(2)} µs, exact ${e.toFixed(2)} µs, ratio ${(e / p).toFixed(2)}`);
}

progress(`a Pod of ${typical.length} bytes; ${opts.iterations} calls × ${opts.rounds} rounds each`);
compare('parse, no integer beyond 2^53 (fast path)', () => JSON.parse(typical), () => parseJSON(typical));
compare('parse, 19 digits inside a string', () => JSON.parse(digitsInString), () => parseJSON(digitsInString));
compare('parse, an int64 at 2^63-1', () => JSON.parse(int64), () => parseJSON(int64));
const parsed = parseJSON(int64);
compare('stringify, no BigInt', () => JSON.stringify(pod), () => stringifyJSON(pod));
compare('stringify, a BigInt (vs the same Pod without it)', () => JSON.stringify(pod), () => stringifyJSON(parsed));
