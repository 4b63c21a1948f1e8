import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrorMessage } from '../../machinery/field-errors.js';
import { type HorizontalPodAutoscaler, defaultHPA, formatTargets, validateHPA } from './hpa.js';
import { type HorizontalPodAutoscalerV1, ConditionsAnnotation, MetricSpecsAnnotation, hpaFromV1, hpaToV1 } from './hpav1.js';

const base = (spec: Partial<HorizontalPodAutoscaler['spec']>): HorizontalPodAutoscaler => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'prod' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec },
});

const messages = (h: HorizontalPodAutoscaler) => validateHPA(h).map((e) => fieldErrorMessage(e));

describe('HorizontalPodAutoscaler', () => {
  it('defaults minReplicas to 1 and an empty metric list to 80% CPU, and fills behavior\'s rules', () => {
    const h = base({ behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } });
    defaultHPA(h);
    assert.equal(h.spec.minReplicas, 1);
    assert.deepEqual(h.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    assert.deepEqual(h.spec.behavior?.scaleDown, { stabilizationWindowSeconds: 30, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
    assert.deepEqual(h.spec.behavior?.scaleUp?.policies, [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }]);
  });

  it('refuses bad replica bounds, targets and policies with kube\'s messages', () => {
    assert.deepEqual(messages(base({ minReplicas: 0, maxReplicas: 0 })), [
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    ]);
    assert.deepEqual(messages(base({ minReplicas: 3, maxReplicas: 2 })), ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']);
    assert.deepEqual(messages(base({ scaleTargetRef: { kind: '', name: 'a/b' } })), ['spec.scaleTargetRef.kind: Required value', "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"]);
    assert.deepEqual(messages(base({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] })), [
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    ]);
    assert.deepEqual(messages(base({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] })), [
      'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
    ]);
    assert.deepEqual(messages(base({ behavior: { scaleUp: { stabilizationWindowSeconds: 4000, policies: [{ type: 'Pods', value: 0, periodSeconds: 2000 }] } } })), [
      'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
    ]);
  });

  it('prints Targets as kubectl does', () => {
    const h = base({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }, { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }] });
    assert.equal(formatTargets(h), 'cpu: <unknown>/50%, memory: <unknown>/100Mi');
    h.status = { desiredReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40, averageValue: '40m' } } }, { type: 'Resource', resource: { name: 'memory', current: { averageValue: '64Mi' } } }] };
    assert.equal(formatTargets(h), 'cpu: 40%/50%, memory: 64Mi/100Mi');
  });

  it('converts to autoscaling/v1 and back: the CPU target in the spec, the rest in the alpha annotations', () => {
    const h = base({
      minReplicas: 2,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }, { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }],
    });
    h.status = {
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 70, averageValue: '70m' } } }],
      conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    const v1 = hpaToV1(h);
    assert.deepEqual(v1.spec, { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 50 });
    assert.deepEqual(v1.status, { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 70 });
    assert.deepEqual(JSON.parse(v1.metadata.annotations![MetricSpecsAnnotation]!), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } }]);
    assert.equal(JSON.parse(v1.metadata.annotations![ConditionsAnnotation]!)[0].reason, 'SucceededRescale');
    const back = hpaFromV1(v1);
    assert.deepEqual(back.spec, h.spec);
    assert.equal(back.metadata.annotations, undefined);
    assert.deepEqual(back.status?.conditions, h.status.conditions);
  });

  it('reads what kubectl autoscale sends in autoscaling/v1', () => {
    const v1: HorizontalPodAutoscalerV1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } };
    assert.deepEqual(hpaFromV1(v1).spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  });
});
