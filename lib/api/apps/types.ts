// Shared apps/v1 types (Deployment, ReplicaSet and the pod template they carry) and the
// IntOrString arithmetic the Deployment controller does with maxSurge / maxUnavailable.

import type { Condition, KubeObject, LabelSelector, ObjectMeta } from '../meta.js';

/** IntOrString is intstr.IntOrString as JSON: a number, or a string such as "25%". */
export type IntOrString = number | string;

/** Container is the part of a core/v1 Container the apps code reads (the core kinds own the full type). */
export interface Container {
  name?: string;
  image?: string;
  [field: string]: unknown;
}

/** PodSpec is the part of a core/v1 PodSpec the apps code reads. */
export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  restartPolicy?: string;
  activeDeadlineSeconds?: number;
  [field: string]: unknown;
}

/** PodTemplateSpec is what a Deployment or ReplicaSet stamps Pods from. */
export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

export const DeploymentStrategyType = { Recreate: 'Recreate', RollingUpdate: 'RollingUpdate' } as const;
export type DeploymentStrategyType = (typeof DeploymentStrategyType)[keyof typeof DeploymentStrategyType];

export interface RollingUpdateDeployment {
  maxUnavailable?: IntOrString;
  maxSurge?: IntOrString;
}

export interface DeploymentStrategy {
  type?: DeploymentStrategyType | string;
  rollingUpdate?: RollingUpdateDeployment;
}

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export const DeploymentConditionType = {
  Available: 'Available',
  Progressing: 'Progressing',
  ReplicaFailure: 'ReplicaFailure',
} as const;

/** DeploymentCondition has lastUpdateTime besides the usual condition fields. */
export type DeploymentCondition = Condition;

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: DeploymentCondition[];
  collisionCount?: number;
}

export interface Deployment extends KubeObject {
  spec: DeploymentSpec;
  status?: DeploymentStatus;
}

export interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
  template?: PodTemplateSpec;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ReplicaSet extends KubeObject {
  spec: ReplicaSetSpec;
  status?: ReplicaSetStatus;
}

// Names the Deployment controller writes on ReplicaSets and Pods (pkg/controller/deployment/util).
export const RevisionAnnotation = 'deployment.kubernetes.io/revision';
export const RevisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const DesiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const MaxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
export const DefaultDeploymentUniqueLabelKey = 'pod-template-hash';

/** IntOrStringError is the error intstr.GetScaledValueFromIntOrPercent returns, with its text. */
export class IntOrStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntOrStringError';
  }
}

const int64Limit = 2n ** 63n;

/**
 * atoi is Go's strconv.Atoi on a 64-bit platform: an optional sign and decimal digits, else the
 * Go error text (`strconv.Atoi: parsing "x": invalid syntax` / `value out of range`).
 */
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new IntOrStringError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n >= int64Limit || n < -int64Limit) throw new IntOrStringError(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/**
 * getScaledValueFromIntOrPercent is intstr.GetScaledValueFromIntOrPercent: an integer is taken as
 * is, "N%" is N percent of total rounded up (roundUp, as for maxSurge) or down (maxUnavailable).
 * A string without a trailing '%' or a non-numeric percentage throws Kubernetes' error text.
 */
export function getScaledValueFromIntOrPercent(v: IntOrString | undefined | null, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) throw new IntOrStringError('nil value for IntOrString');
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v !== 'string') throw new IntOrStringError('invalid value for IntOrString: invalid type: neither int nor percentage');
  if (!v.endsWith('%')) throw new IntOrStringError('invalid value for IntOrString: invalid type: string is not a percentage');
  let percent: number;
  try {
    percent = atoi(v.slice(0, -1));
  } catch (err) {
    throw new IntOrStringError(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}: ${(err as Error).message}`);
  }
  // Same float64 arithmetic as Go: percent * total / 100, then ceil or floor.
  const scaled = (percent * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * intOrStringValue is IntOrString.IntValue(): the integer, or strconv.Atoi of the string with
 * errors read as 0 (so "25%" is 0 here; validation uses percentValue for percentages).
 */
export function intOrStringValue(v: IntOrString | undefined | null): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string') {
    try {
      return atoi(v);
    } catch {
      return 0;
    }
  }
  return 0;
}

/** layoutContainerCells is the CONTAINERS and IMAGES cells of workload tables: names and images joined by ','. */
export function layoutContainerCells(containers: Container[] | undefined | null): { names: string; images: string } {
  const list = containers ?? [];
  return { names: list.map((c) => c.name ?? '').join(','), images: list.map((c) => c.image ?? '').join(',') };
}
