import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFieldErrors } from '../../machinery/field-errors.js';
import { type LimitRange, defaultLimitRange, validateLimitRange } from './limitrange.js';
import { type ResourceQuota, quotaColumns, validateResourceQuota, validateResourceQuotaUpdate } from './resourcequota.js';

const msgs = (errs: ReturnType<typeof validateLimitRange>) => formatFieldErrors(errs, { withField: true });
const lr = (limits: NonNullable<LimitRange['spec']>['limits']): LimitRange => ({ metadata: { name: 'l', namespace: 'ns' }, spec: { limits } });
const rq = (spec: ResourceQuota['spec']): ResourceQuota => ({ metadata: { name: 'q', namespace: 'ns' }, spec });

test('LimitRange validation speaks kube\'s messages for inconsistent bounds and types', () => {
  assert.equal(
    msgs(validateLimitRange(lr([{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' }, defaultRequest: { cpu: '3' } }]))),
    '[spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1, spec.limits[0].defaultRequest[cpu]: Invalid value: "3": default request value 3 is greater than max value 1]',
  );
  assert.match(msgs(validateLimitRange(lr([{ type: 'Pod', default: { cpu: '1' } }]))), /spec\.limits\[0\]\.default: Forbidden: may not be specified when `type` is 'Pod'/);
  assert.match(msgs(validateLimitRange(lr([{ type: 'PersistentVolumeClaim', max: { cpu: '1' } }]))), /either minimum or maximum storage value is required, but neither was provided/);
  assert.match(msgs(validateLimitRange(lr([{ type: 'Widget' }]))), /must be a standard limit type or fully qualified/);
  assert.match(msgs(validateLimitRange(lr([{ type: 'Container', maxLimitRequestRatio: { cpu: '500m' } }]))), /ratio 500m is less than 1/);
  assert.deepEqual(validateLimitRange(lr([{ type: 'Container', min: { cpu: '100m' }, max: { cpu: '1' }, default: { cpu: '500m' } }])), []);
});

test('LimitRange defaults: max becomes the default limit, default or min the default request', () => {
  const l = lr([{ type: 'Container', max: { cpu: '1000m' }, min: { memory: '64Mi' } }]);
  defaultLimitRange(l);
  assert.deepEqual(l.spec!.limits![0], { type: 'Container', max: { cpu: '1' }, min: { memory: '64Mi' }, default: { cpu: '1' }, defaultRequest: { cpu: '1', memory: '64Mi' } });
});

test('ResourceQuota validation: resource names, scopes that fit the resources, conflicting scopes, immutable scopes', () => {
  assert.match(msgs(validateResourceQuota(rq({ hard: { widgets: '1' } }))), /spec\.hard\[widgets\]: Invalid value: "widgets": must be a standard resource for quota/);
  assert.match(msgs(validateResourceQuota(rq({ hard: { services: '1' }, scopes: ['Terminating'] }))), /spec\.scopes: Invalid value: \[\]string\{"Terminating"\}: unsupported scope applied to resource/);
  assert.match(msgs(validateResourceQuota(rq({ hard: { pods: '1' }, scopes: ['BestEffort', 'NotBestEffort'] }))), /conflicting scopes/);
  assert.match(msgs(validateResourceQuota(rq({ hard: { pods: '1' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In' }] } }))), /must be at least one value when `operator` is 'In' or 'NotIn' for scope selector/);
  assert.deepEqual(validateResourceQuota(rq({ hard: { 'count/deployments.apps': '2', 'gold.storageclass.storage.k8s.io/requests.storage': '10Gi', pods: '5' } })), []);
  assert.match(msgs(validateResourceQuotaUpdate(rq({ scopes: ['Terminating'] }), rq({}))), /spec\.scopes: Invalid value: \[\]string\{"Terminating"\}: field is immutable/);
});

test('ResourceQuota columns print used/hard, limits.* apart, as printResourceQuota', () => {
  const q: ResourceQuota = { ...rq({ hard: { 'limits.cpu': '2', pods: '4', 'requests.memory': '1Gi' } }), status: { hard: { 'limits.cpu': '2', pods: '4', 'requests.memory': '1Gi' }, used: { pods: '1', 'requests.memory': '512Mi' } } };
  assert.deepEqual(quotaColumns(q), { request: 'pods: 1/4, requests.memory: 512Mi/1Gi', limit: 'limits.cpu: 0/2' });
});
