// core/v1 Pod: types, defaults, the strategy (status on create, QoS class, graceful deletion),
// validation of create/update/status with Kubernetes' messages, the `kubectl get pods` table
// (READY, STATUS, RESTARTS, …) and the field selectors, plus the helpers controllers share.

import {
  type FieldError,
  Path,
  forbiddenField,
  invalidValue,
  required,
} from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { emptyEqual } from '../../machinery/equality.js';
import { isDNS1123Subdomain, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { type KubeObject, nowRFC3339 } from '../meta.js';
import { defineResource, type PrinterColumn, type StrategyContext } from '../resource.js';
import { defaultPodSpec, isRestartableInitContainer, validatePodSpec, validatePodSpecificAnnotations } from './podspec.js';
import { podSpecWarnings } from './podwarnings.js';
import { quantityNanos } from './quantity.js';
import type { Container, PodSpec, ResourceList, Toleration } from './types.js';
import {
  fieldImmutableErrorMsg,
  inclusiveRangeError,
  jsonEqual,
  validateIP,
  validateQualifiedName,
  validateTolerations,
} from './validation.js';
import { parseIPSloppy } from '../../net/ip.js';
import { stringifyJSON } from '../../machinery/json.js';

// ---------------------------------------------------------------------------------------------
// Types

export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}

export interface ContainerStateRunning {
  startedAt?: string;
}

export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  containerID?: string;
}

export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  state?: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  restartCount: number;
  image?: string;
  imageID?: string;
  containerID?: string;
  started?: boolean;
  [field: string]: unknown;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime?: string | null;
  lastTransitionTime?: string | null;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface PodIP {
  ip: string;
}

export interface PodStatus {
  phase?: string;
  conditions?: PodCondition[];
  message?: string;
  reason?: string;
  nominatedNodeName?: string;
  hostIP?: string;
  hostIPs?: PodIP[];
  podIP?: string;
  podIPs?: PodIP[];
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
  ephemeralContainerStatuses?: ContainerStatus[];
  qosClass?: string;
  resize?: string;
  [field: string]: unknown;
}

/** Pod is core/v1 Pod. */
export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: PodStatus;
}

export const PodPhase = {
  Pending: 'Pending',
  Running: 'Running',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Unknown: 'Unknown',
} as const;
export type PodPhase = (typeof PodPhase)[keyof typeof PodPhase];

export const PodQOSClass = { Guaranteed: 'Guaranteed', Burstable: 'Burstable', BestEffort: 'BestEffort' } as const;
export type PodQOSClass = (typeof PodQOSClass)[keyof typeof PodQOSClass];

export const PodConditionType = {
  PodScheduled: 'PodScheduled',
  PodReadyToStartContainers: 'PodReadyToStartContainers',
  Initialized: 'Initialized',
  ContainersReady: 'ContainersReady',
  Ready: 'Ready',
  DisruptionTarget: 'DisruptionTarget',
} as const;

/** PodReasonSchedulingGated is the PodScheduled reason of a pod held back by scheduling gates. */
export const PodReasonSchedulingGated = 'SchedulingGated';
/** NodeUnreachablePodReason is the status.reason the node lifecycle controller sets on pods of a lost node. */
export const NodeUnreachablePodReason = 'NodeLost';

// ---------------------------------------------------------------------------------------------
// Helpers for controllers, the scheduler and the kubelet

/** podPhase is the pod's phase; a pod without status is Pending (that is what create sets). */
export function podPhase(pod: Pod): PodPhase {
  return (pod.status?.phase as PodPhase | undefined) ?? PodPhase.Pending;
}

/** isPodTerminal: the pod reached Succeeded or Failed and will not run again. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = podPhase(pod);
  return phase === PodPhase.Succeeded || phase === PodPhase.Failed;
}

/** getPodCondition returns the condition of the given type, if any. */
export function getPodCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** isPodReady: the pod's Ready condition is True (what Endpoints and ReplicaSets count). */
export function isPodReady(pod: Pod): boolean {
  return getPodCondition(pod, PodConditionType.Ready)?.status === 'True';
}

/** isPodActive: not finished and not being deleted (what a ReplicaSet counts as one of its replicas). */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

/**
 * isPodAvailable: ready for at least minReadySeconds (podutil.IsPodAvailable), judged by the
 * Ready condition's lastTransitionTime.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  const ready = getPodCondition(pod, PodConditionType.Ready);
  if (ready?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return !Number.isNaN(since) && since + minReadySeconds * 1000 < now.getTime();
}

/** isPodScheduled: the pod is bound to a node. */
export function isPodScheduled(pod: Pod): boolean {
  return !!pod.spec?.nodeName;
}

/** podIP is the pod's primary IP ("" until the kubelet reports one). */
export function podIP(pod: Pod): string {
  return pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP ?? '';
}

const qosResources = ['cpu', 'memory'];

function sumInto(into: Map<string, bigint>, list: ResourceList | undefined, found?: Set<string>): void {
  for (const [name, q] of Object.entries(list ?? {})) {
    if (!qosResources.includes(name)) continue;
    const v = quantityNanos(q);
    // Zero requests and limits count as unset for QoS.
    if (v <= 0n) continue;
    found?.add(name);
    into.set(name, (into.get(name) ?? 0n) + v);
  }
}

/**
 * computeQOSClass is ComputePodQOS: Guaranteed when every container (init included) has cpu and
 * memory limits and the summed requests equal the summed limits; BestEffort when no container
 * asks for cpu or memory at all; Burstable otherwise.
 */
export function computeQOSClass(pod: Pod): PodQOSClass {
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let guaranteed = true;
  const all: Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of all) {
    sumInto(requests, c.resources?.requests);
    const found = new Set<string>();
    sumInto(limits, c.resources?.limits, found);
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return PodQOSClass.BestEffort;
  if (guaranteed) {
    for (const [name, req] of requests) {
      if (limits.get(name) !== req) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? PodQOSClass.Guaranteed : PodQOSClass.Burstable;
}

// ---------------------------------------------------------------------------------------------
// Defaults and strategy

/** defaultPod applies the Pod defaults: the PodSpec ones plus SetDefaults_Pod and the v1 IP field sync. */
export function defaultPod(pod: Pod): void {
  if (!pod.spec) return;
  const spec = pod.spec;
  defaultPodSpec(spec);
  // Requests default to limits for any resource that has a limit but no request.
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const limits = c.resources?.limits;
    if (!limits) continue;
    c.resources!.requests ??= {};
    for (const [name, q] of Object.entries(limits)) if (!(name in c.resources!.requests)) c.resources!.requests[name] = q;
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const p of c.ports ?? []) if (!p.hostPort) p.hostPort = p.containerPort;
    }
  }
  syncPodIPs(pod);
}

/** syncPodIPs keeps podIP/podIPs and hostIP/hostIPs consistent, as the v1 conversion does. */
function syncPodIPs(pod: Pod): void {
  const st = pod.status;
  if (!st) return;
  if (!st.podIPs?.length && st.podIP) st.podIPs = [{ ip: st.podIP }];
  if (st.podIPs?.length) st.podIP = st.podIPs[0].ip;
  if (!st.hostIPs?.length && st.hostIP) st.hostIPs = [{ ip: st.hostIP }];
  if (st.hostIPs?.length) st.hostIP = st.hostIPs[0].ip;
}

/** prepareForCreate resets the status to Pending with the pod's QoS class, and marks gated pods. */
function prepareForCreate(pod: Pod, ctx: StrategyContext): void {
  pod.status = { phase: PodPhase.Pending, qosClass: computeQOSClass(pod) };
  if (pod.spec?.schedulingGates?.length) {
    pod.status.conditions = [
      {
        type: PodConditionType.PodScheduled,
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: nowRFC3339(ctx.now),
        reason: PodReasonSchedulingGated,
        message: 'Scheduling is blocked due to non-empty scheduling gates',
      },
    ];
  }
}

/** prepareForStatusUpdate backfills the QoS class, which older kubelets drop from rejected pods. */
function prepareForStatusUpdate(pod: Pod, old: Pod): void {
  pod.status ??= {};
  if (!pod.status.qosClass && old.status?.qosClass) pod.status.qosClass = old.status.qosClass;
}

/**
 * podGracefulDelete is CheckGracefulDelete: the grace period is the request's or else the pod's
 * terminationGracePeriodSeconds, but a pod that never reached a node or already finished goes
 * at once (0). A negative period becomes 1.
 */
export function podGracefulDelete(pod: Pod, requested: number | bigint | undefined): { graceful: boolean; gracePeriodSeconds: number | bigint } {
  // Either may be an int64 beyond 2^53 (a BigInt): compared, never computed with.
  let period: number | bigint = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 0;
  if (!pod.spec?.nodeName) period = 0;
  if (isPodTerminal(pod)) period = 0;
  if (period < 0) period = 1;
  return { graceful: period > 0, gracePeriodSeconds: period };
}

// ---------------------------------------------------------------------------------------------
// Validation

const specPath = new Path('spec');
const metaPath = new Path('metadata');

/**
 * validatePod is ValidatePodCreate (and the spec checks every update repeats). The registry
 * calls validate for updates too; an object that already has a resourceVersion is an update,
 * which skips the create-only checks.
 */
function validatePod(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain);
  if (!pod.spec) return [...errs, required(specPath)];
  errs.push(...validatePodSpecificAnnotations(pod.metadata?.annotations, pod.spec, metaPath.child('annotations')));
  errs.push(...validatePodSpec(pod.spec, specPath, { resourceIsPod: true }));
  if (!pod.spec.serviceAccountName) {
    (pod.spec.volumes ?? []).forEach((v, vi) =>
      (v.projected?.sources ?? []).forEach((s, si) => {
        if (s.serviceAccountToken) {
          errs.push(
            forbiddenField(
              specPath.child('volumes').index(vi).child('projected', 'sources').index(si).child('serviceAccountToken'),
              'must not be specified when serviceAccountName is not set',
            ),
          );
        }
      }),
    );
  }
  for (const [key, list] of [
    ['containers', pod.spec.containers],
    ['initContainers', pod.spec.initContainers],
  ] as const) {
    (list ?? []).forEach((c, i) => {
      if (c.image && c.image.trim() !== c.image) errs.push(invalidValue(specPath.child(key).index(i).child('image'), c.image, 'must not have leading or trailing whitespace'));
    });
  }
  const isCreate = !pod.metadata?.resourceVersion;
  if (isCreate) {
    if (pod.spec.ephemeralContainers?.length) errs.push(forbiddenField(specPath.child('ephemeralContainers'), 'cannot be set on create'));
    if (pod.spec.nodeName && pod.spec.schedulingGates?.length) {
      errs.push(forbiddenField(specPath.child('nodeName'), 'cannot be set until all schedulingGates have been cleared'));
    }
  }
  return errs;
}

const appArmorAnnotationPrefix = 'container.apparmor.security.beta.kubernetes.io/';
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

function validatePodAnnotationUpdates(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const path = metaPath.child('annotations');
  const next = pod.metadata?.annotations ?? {};
  const prev = old.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(prev)) {
    if (k in next && next[k] === v) continue;
    if (k.startsWith(appArmorAnnotationPrefix)) errs.push(forbiddenField(path.key(k), 'may not remove or update AppArmor annotations'));
    if (k === mirrorPodAnnotation) errs.push(forbiddenField(path.key(k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(next)) {
    if (k in prev) continue;
    if (k.startsWith(appArmorAnnotationPrefix)) errs.push(forbiddenField(path.key(k), 'may not add AppArmor annotations'));
    if (k === mirrorPodAnnotation) errs.push(forbiddenField(path.key(k), 'may not add mirror pod annotation'));
  }
  return errs;
}

function validateContainerUpdates(next: Container[] | undefined, prev: Container[] | undefined, path: Path): { errs: FieldError[]; stop: boolean } {
  const a = next ?? [];
  const b = prev ?? [];
  if (a.length !== b.length) return { errs: [forbiddenField(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  a.forEach((c, i) => {
    if (!c.image) errs.push(required(path.index(i).child('image')));
    if (c.image && c.image.trim() !== c.image) errs.push(invalidValue(path.index(i).child('image'), c.image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

function sameToleration(a: Toleration, b: Toleration): boolean {
  return jsonEqual({ ...a, tolerationSeconds: undefined }, { ...b, tolerationSeconds: undefined });
}

/** updatablePodSpecFields is the list Kubernetes prints when a pod update touches anything else. */
export const updatablePodSpecFields = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** specDiff renders the changed top-level spec fields, in the spirit of the cmp.Diff Kubernetes appends. */
function specDiff(prev: PodSpec, next: PodSpec): string {
  const lines = ['  core.PodSpec{'];
  const keys = [...new Set([...Object.keys(prev), ...Object.keys(next)])];
  for (const k of keys) {
    const a = (prev as unknown as Record<string, unknown>)[k];
    const b = (next as unknown as Record<string, unknown>)[k];
    if (emptyEqual(a, b)) continue;
    const field = k.charAt(0).toUpperCase() + k.slice(1);
    if (a !== undefined) lines.push(`- \t${field}: ${stringifyJSON(a)},`);
    if (b !== undefined) lines.push(`+ \t${field}: ${stringifyJSON(b)},`);
  }
  lines.push('  }', '');
  return lines.join('\n');
}

/** validatePodUpdate is the update half of ValidatePodUpdate: what may change in a running pod's spec. */
function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePodAnnotationUpdates(pod, old);
  const spec = pod.spec ?? ({ containers: [] } as PodSpec);
  const prev = old.spec ?? ({ containers: [] } as PodSpec);
  for (const key of ['containers', 'initContainers'] as const) {
    const r = validateContainerUpdates(spec[key], prev[key], specPath.child(key));
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (ads < 0 || ads > 2147483647) return [...errs, invalidValue(specPath.child('activeDeadlineSeconds'), ads, inclusiveRangeError(0, 2147483647))];
    if (prev.activeDeadlineSeconds !== undefined && prev.activeDeadlineSeconds !== null && prev.activeDeadlineSeconds < ads) {
      return [...errs, invalidValue(specPath.child('activeDeadlineSeconds'), ads, 'must be less than or equal to previous value')];
    }
  } else if (prev.activeDeadlineSeconds !== undefined && prev.activeDeadlineSeconds !== null) {
    errs.push(invalidValue(specPath.child('activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'));
  }
  // Tolerations may only be added (an existing one may change only its tolerationSeconds).
  const tolPath = specPath.child('tolerations');
  const newTols = spec.tolerations ?? [];
  const missing = (prev.tolerations ?? []).some((t) => !newTols.some((n) => sameToleration(t, n)));
  if (missing) errs.push(forbiddenField(tolPath, 'existing toleration can not be modified except its tolerationSeconds'));
  else errs.push(...validateTolerations(newTols, tolPath));
  // Scheduling gates may only be removed.
  const oldGates = new Set((prev.schedulingGates ?? []).map((g) => g.name));
  (spec.schedulingGates ?? []).forEach((g, i) => {
    if (!oldGates.has(g.name)) {
      errs.push(forbiddenField(specPath.child('schedulingGates').index(i).child('name'), `only deletion is allowed, but found new scheduling gate '${g.name}'`));
    }
  });
  if (emptyEqual(spec, prev)) return errs;

  // Put the old values back into everything that may change, then nothing else may differ.
  const munged: PodSpec = structuredClone(spec);
  munged.containers = (munged.containers ?? []).map((c, i) => ({ ...c, image: prev.containers[i]?.image }));
  if (munged.initContainers) munged.initContainers = munged.initContainers.map((c, i) => ({ ...c, image: prev.initContainers?.[i]?.image }));
  munged.activeDeadlineSeconds = prev.activeDeadlineSeconds;
  if (munged.activeDeadlineSeconds === undefined) delete munged.activeDeadlineSeconds;
  munged.schedulingGates = prev.schedulingGates;
  munged.tolerations = prev.tolerations;
  for (const k of ['schedulingGates', 'tolerations'] as const) if (munged[k] === undefined) delete munged[k];
  if ((prev.terminationGracePeriodSeconds ?? 0) < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = prev.terminationGracePeriodSeconds;
  }
  // A pod still held by scheduling gates may gain node selector entries, but not lose or change them.
  if (prev.schedulingGates?.length && !emptyEqual(munged.nodeSelector, prev.nodeSelector)) {
    const next = munged.nodeSelector ?? {};
    const kept = Object.entries(prev.nodeSelector ?? {}).every(([k, v]) => next[k] === v);
    if (!kept) errs.push(invalidValue(specPath.child('nodeSelector'), next, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
    munged.nodeSelector = prev.nodeSelector;
  }
  if (!emptyEqual(munged, prev)) {
    errs.push(forbiddenField(specPath, `pod updates may not change fields other than ${updatablePodSpecFields.join(',')}\n${specDiff(prev, munged)}`));
  }
  return errs;
}

const systemConditions = new Set(['PodScheduled', 'Ready', 'Initialized']);

function validateContainerStateTransition(next: ContainerStatus[] | undefined, prev: ContainerStatus[] | undefined, path: Path, restartPolicy: string, spec?: PodSpec): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  (prev ?? []).forEach((old, i) => {
    const term = old.state?.terminated;
    if (!term) return;
    if (term.exitCode !== 0 && restartPolicy === 'OnFailure') return;
    if (spec && isRestartableInitContainer(spec.initContainers?.find((c) => c.name === old.name))) return;
    for (const s of next ?? []) {
      if (s.name === old.name && !s.state?.terminated) errs.push(forbiddenField(path.index(i).child('state'), 'may not be transitioned to non-terminated state'));
    }
  });
  return errs;
}

function validateIPList(ips: PodIP[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (ips ?? []).forEach((ip, i) => errs.push(...validateIP(ip.ip ?? '', path.index(i))));
  if ((ips?.length ?? 0) > 1 && !errs.length) {
    const families = ips!.map((ip) => parseIPSloppy(ip.ip)?.family);
    if (ips!.length > 2 || families[0] === families[1]) errs.push(invalidValue(path, ips, 'may specify no more than one IP for each IP family'));
    const seen = new Set<string>();
    ips!.forEach((ip, i) => {
      if (seen.has(ip.ip)) errs.push({ type: 'FieldValueDuplicate', field: String(path.index(i)), value: ip });
      seen.add(ip.ip);
    });
  }
  return errs;
}

/** validatePodStatusUpdate is ValidatePodStatusUpdate. */
function validatePodStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePodAnnotationUpdates(pod, old);
  const st = pod.status ?? {};
  // Kubernetes reports bad condition types under metadata.conditions; the odd path is kept on purpose.
  (st.conditions ?? []).forEach((c, i) => {
    if (!systemConditions.has(c.type)) errs.push(...validateQualifiedName(c.type ?? '', metaPath.child('conditions').index(i).child('Type')));
  });
  const statusPath = new Path('status');
  if ((pod.spec?.nodeName ?? '') !== (old.spec?.nodeName ?? '')) errs.push(forbiddenField(statusPath.child('nodeName'), 'may not be changed directly'));
  if (st.nominatedNodeName && st.nominatedNodeName !== old.status?.nominatedNodeName) {
    errs.push(...isDNS1123Subdomain(st.nominatedNodeName).map((m) => invalidValue(statusPath.child('nominatedNodeName'), st.nominatedNodeName, m)));
  }
  if ((st.qosClass ?? '') !== (old.status?.qosClass ?? '')) errs.push(invalidValue(statusPath.child('qosClass'), st.qosClass ?? '', fieldImmutableErrorMsg));
  const restartPolicy = old.spec?.restartPolicy ?? 'Always';
  errs.push(...validateContainerStateTransition(st.containerStatuses, old.status?.containerStatuses, statusPath.child('containerStatuses'), restartPolicy));
  errs.push(...validateContainerStateTransition(st.initContainerStatuses, old.status?.initContainerStatuses, statusPath.child('initContainerStatuses'), restartPolicy, old.spec));
  errs.push(...validateContainerStateTransition(st.ephemeralContainerStatuses, old.status?.ephemeralContainerStatuses, statusPath.child('ephemeralContainerStatuses'), 'Never'));
  errs.push(...validateIPList(st.podIPs, statusPath.child('podIPs')));
  if (st.hostIPs?.length) {
    if (st.hostIP !== st.hostIPs[0].ip) errs.push(invalidValue(statusPath.child('hostIPs').index(0).child('ip'), st.hostIPs[0].ip, 'must be equal to `hostIP`'));
    errs.push(...validateIPList(st.hostIPs, statusPath.child('hostIPs')));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Table

/** PodRow is one row of `kubectl get pods -o wide`, as printPod computes it. */
export interface PodRow {
  ready: string;
  status: string;
  restarts: string;
  age: string;
  ip: string;
  node: string;
  nominatedNode: string;
  readinessGates: string;
}

function laterTime(a: string | undefined, b: string | null | undefined): string | undefined {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/**
 * podRow computes the pod table cells exactly as kubectl's printPod does: READY counts ready
 * containers (sidecars included), STATUS walks init containers then containers (last first)
 * for a waiting/terminated reason, and deletion shows Terminating (or Unknown for NodeLost).
 */
export function podRow(pod: Pod, now: Date): PodRow {
  const spec = pod.spec ?? ({ containers: [] } as PodSpec);
  const st = pod.status ?? {};
  let restarts = 0;
  let sidecarRestarts = 0;
  let total = (spec.containers ?? []).length;
  let ready = 0;
  let lastRestart: string | undefined;
  let lastSidecarRestart: string | undefined;
  const phase = st.phase ?? '';
  let reason = st.reason || phase;
  for (const c of st.conditions ?? []) {
    if (c.type === PodConditionType.PodScheduled && c.reason === PodReasonSchedulingGated) reason = PodReasonSchedulingGated;
  }
  const initByName = new Map<string, Container>();
  for (const c of spec.initContainers ?? []) {
    initByName.set(c.name, c);
    if (isRestartableInitContainer(c)) total++;
  }
  let initializing = false;
  const initStatuses = st.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    lastRestart = laterTime(lastRestart, finished);
    const sidecar = isRestartableInitContainer(initByName.get(c.name));
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = laterTime(lastSidecarRestart, finished);
    }
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (sidecar && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
      else reason = `Init:${term.reason}`;
    } else if (wait?.reason && wait.reason !== 'PodInitializing') {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }
  const initialized = getPodCondition(pod, PodConditionType.Initialized)?.status === 'True';
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = st.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      lastRestart = laterTime(lastRestart, c.lastState?.terminated?.finishedAt);
      const wait = c.state?.waiting;
      const term = c.state?.terminated;
      if (wait?.reason) reason = wait.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A pod whose last container completed but another still runs is shown as running.
    if (reason === 'Completed' && hasRunning) reason = isPodReady(pod) ? 'Running' : 'NotReady';
  }
  if (pod.metadata?.deletionTimestamp && st.reason === NodeUnreachablePodReason) reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== PodPhase.Succeeded && phase !== PodPhase.Failed) reason = 'Terminating';

  const restartsText = restarts !== 0 && lastRestart ? `${restarts} (${age(lastRestart, now)} ago)` : String(restarts);
  let gates = '<none>';
  if (spec.readinessGates?.length) {
    let trueCount = 0;
    for (const g of spec.readinessGates) {
      const cond = st.conditions?.find((c) => c.type === g.conditionType);
      if (cond?.status === 'True') trueCount++;
    }
    gates = `${trueCount}/${spec.readinessGates.length}`;
  }
  return {
    ready: `${ready}/${total}`,
    status: reason,
    restarts: restartsText,
    age: age(pod.metadata?.creationTimestamp, now),
    ip: st.podIPs?.[0]?.ip || st.podIP || '<none>',
    node: spec.nodeName || '<none>',
    nominatedNode: st.nominatedNodeName || '<none>',
    readinessGates: gates,
  };
}

const podColumns: PrinterColumn<Pod>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (p) => p.metadata.name },
  { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: (p, now) => podRow(p, now).ready },
  { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', cell: (p, now) => podRow(p, now).status },
  {
    name: 'Restarts',
    type: 'string',
    description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    cell: (p, now) => podRow(p, now).restarts,
  },
  { name: 'Age', type: 'string', cell: (p, now) => age(p.metadata.creationTimestamp, now) },
  { name: 'IP', type: 'string', priority: 1, cell: (p, now) => podRow(p, now).ip },
  { name: 'Node', type: 'string', priority: 1, cell: (p, now) => podRow(p, now).node },
  { name: 'Nominated Node', type: 'string', priority: 1, cell: (p, now) => podRow(p, now).nominatedNode },
  { name: 'Readiness Gates', type: 'string', priority: 1, cell: (p, now) => podRow(p, now).readinessGates },
];

// ---------------------------------------------------------------------------------------------
// Declaration

export const pods = defineResource<Pod>({
  returnDeletedObject: true,
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  printerColumns: podColumns,
  fieldSelectors: {
    'spec.nodeName': (p) => p.spec?.nodeName ?? '',
    'spec.restartPolicy': (p) => p.spec?.restartPolicy ?? '',
    'spec.schedulerName': (p) => p.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (p) => p.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': (p) => String(p.spec?.hostNetwork === true),
    'status.phase': (p) => p.status?.phase ?? '',
    'status.podIP': (p) => p.status?.podIPs?.[0]?.ip ?? p.status?.podIP ?? '',
    'status.nominatedNodeName': (p) => p.status?.nominatedNodeName ?? '',
  },
  defaults: defaultPod,
  prepareForCreate,
  prepareForStatusUpdate,
  validate: validatePod,
  validateUpdate: validatePodUpdate,
  warningsOnCreate: (p) => podSpecWarnings(p.spec, p.metadata),
  warningsOnUpdate: (p) => podSpecWarnings(p.spec, p.metadata),
  validateStatusUpdate: validatePodStatusUpdate,
  gracefulDelete: podGracefulDelete,
});
