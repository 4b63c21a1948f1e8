// batch/v1 types: Job and CronJob (k8s.io/api/batch/v1), the parts skiff reads and writes.

import type { Condition, KubeObject, LabelSelector, ObjectMeta, OwnerReference } from '../meta.js';
import type { PodTemplateSpec } from '../apps/types.js';

/** JobLabels are the label and annotation keys the Job API and controller use (batch/v1 types.go). */
export const JobLabels = {
  /** ControllerUid is the label of a Job's pods naming its uid; generated selectors select it. */
  ControllerUid: 'batch.kubernetes.io/controller-uid',
  LegacyControllerUid: 'controller-uid',
  JobName: 'batch.kubernetes.io/job-name',
  LegacyJobName: 'job-name',
  /** JobCompletionIndex is the annotation (and label) of an Indexed Job's pod. */
  JobCompletionIndex: 'batch.kubernetes.io/job-completion-index',
  /** JobIndexFailureCount is the annotation counting failures of an index (backoffLimitPerIndex). */
  JobIndexFailureCount: 'batch.kubernetes.io/job-index-failure-count',
  /** JobTrackingFinalizer keeps a finished pod until the Job controller has counted it. */
  JobTrackingFinalizer: 'batch.kubernetes.io/job-tracking',
  /** CronJobScheduledTimestamp is the annotation of a CronJob's Job: when it was scheduled to run. */
  CronJobScheduledTimestamp: 'batch.kubernetes.io/cronjob-scheduled-timestamp',
} as const;

export const CompletionMode = { NonIndexed: 'NonIndexed', Indexed: 'Indexed' } as const;

export const JobConditionType = {
  Suspended: 'Suspended',
  Complete: 'Complete',
  Failed: 'Failed',
  FailureTarget: 'FailureTarget',
  SuccessCriteriaMet: 'SuccessCriteriaMet',
} as const;

export interface PodFailurePolicyOnExitCodesRequirement {
  containerName?: string;
  operator: string;
  values: number[];
}

export interface PodFailurePolicyOnPodConditionsPattern {
  type: string;
  status?: string;
}

export interface PodFailurePolicyRule {
  action: string;
  onExitCodes?: PodFailurePolicyOnExitCodesRequirement;
  onPodConditions?: PodFailurePolicyOnPodConditionsPattern[];
}

export interface PodFailurePolicy {
  rules: PodFailurePolicyRule[];
}

export interface SuccessPolicyRule {
  succeededIndexes?: string;
  succeededCount?: number;
}

export interface JobSpec {
  parallelism?: number;
  completions?: number;
  activeDeadlineSeconds?: number;
  podFailurePolicy?: PodFailurePolicy;
  successPolicy?: { rules: SuccessPolicyRule[] };
  backoffLimit?: number;
  backoffLimitPerIndex?: number;
  maxFailedIndexes?: number;
  selector?: LabelSelector;
  manualSelector?: boolean;
  template?: PodTemplateSpec;
  ttlSecondsAfterFinished?: number;
  completionMode?: string;
  suspend?: boolean;
  podReplacementPolicy?: string;
  managedBy?: string;
}

export interface UncountedTerminatedPods {
  succeeded?: string[];
  failed?: string[];
}

export interface JobStatus {
  conditions?: Condition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  completedIndexes?: string;
  failedIndexes?: string;
  uncountedTerminatedPods?: UncountedTerminatedPods;
  ready?: number;
}

export interface Job extends KubeObject {
  spec: JobSpec;
  status?: JobStatus;
}

export interface JobTemplateSpec {
  metadata?: ObjectMeta;
  spec?: JobSpec;
}

export interface CronJobSpec {
  schedule: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: string;
  suspend?: boolean;
  jobTemplate: JobTemplateSpec;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
}

/** JobReference is an ObjectReference as CronJob status.active holds it. */
export interface JobReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface CronJobStatus {
  active?: JobReference[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export interface CronJob extends KubeObject {
  spec: CronJobSpec;
  status?: CronJobStatus;
}

export const ConcurrencyPolicy = { Allow: 'Allow', Forbid: 'Forbid', Replace: 'Replace' } as const;

/** isJobFinished is util.IsJobFinished: a Complete or Failed condition that is True. */
export function isJobFinished(job: Pick<Job, 'status'>): { finished: boolean; type?: string; time?: string } {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === JobConditionType.Complete || c.type === JobConditionType.Failed) && c.status === 'True') {
      return { finished: true, type: c.type, time: c.lastTransitionTime };
    }
  }
  return { finished: false };
}

/** ownerRefOf is a controller reference as a Job's or CronJob's children carry it. */
export type { OwnerReference };
