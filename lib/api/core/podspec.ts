// PodSpec defaulting and validation, shared by Pods and every kind with a pod template
// (Deployments, ReplicaSets, Jobs, …). Mirrors SetDefaults_PodSpec/SetDefaults_Container and
// the generated nested defaults, and ValidatePodSpec/ValidatePodTemplateSpec, with Kubernetes'
// messages and field paths. Pod-only defaults and checks live in pod.ts.

import {
  type FieldError,
  Path,
  duplicate,
  forbiddenField,
  invalidValue,
  notFoundField,
  notSupported,
  required,
} from '../../machinery/field-errors.js';
import { isDNS1123Subdomain, isQualifiedName, validateAnnotations, validateLabels } from '../../machinery/validation.js';
import type { ObjectMeta } from '../meta.js';
import { compareQuantities, canonicalQuantity, formatQuantity, parseQuantity, quantityFormatError } from './quantity.js';
import type {
  Container,
  EnvFromSource,
  EnvVar,
  HTTPGetAction,
  LifecycleHandler,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceList,
  ResourceRequirements,
  Volume,
  VolumeMount,
} from './types.js';
import { supportedPortProtocols } from './types.js';
import {
  inclusiveRangeError,
  isConfigMapKey,
  isEnvVarName,
  isValidPortName,
  isValidPortNum,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateIP,
  validateNonnegative,
  validatePortNumOrName,
  validateQualifiedName,
  validateTolerations,
} from './validation.js';

// ---------------------------------------------------------------------------------------------
// Defaults

/** DefaultTerminationGracePeriodSeconds is the grace a pod gets when it asks for none. */
export const DefaultTerminationGracePeriodSeconds = 30;
export const DefaultSchedulerName = 'default-scheduler';
export const TerminationMessagePathDefault = '/dev/termination-log';
/** defaultVolumeMode is 0644, the default file mode of secret, configMap, downwardAPI and projected volumes. */
export const defaultVolumeMode = 0o644;

/**
 * imagePullPolicyFor is the default pull policy for an image: Always for `:latest` or no tag,
 * IfNotPresent for any other tag or a digest-only reference.
 */
export function imagePullPolicyFor(image: string | undefined): string {
  return imageTag(image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
}

/** imageTag is the tag of an image reference as parsers.ParseImageName sees it ("latest" when absent). */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const hasDigest = at >= 0;
  const name = hasDigest ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf('/');
  const lastPart = name.slice(lastSlash + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon >= 0) return lastPart.slice(colon + 1);
  return hasDigest ? '' : 'latest';
}

function defaultHTTPGet(h: HTTPGetAction | undefined): void {
  if (!h) return;
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

/** defaultProbe is SetDefaults_Probe plus the nested handler defaults. */
export function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultHTTPGet(p.httpGet);
  // GRPCAction.service defaults to "" and, having no omitempty, always appears on the wire.
  if (p.grpc && (p.grpc.service === undefined || p.grpc.service === null)) p.grpc.service = '';
}

function defaultLifecycleHandler(h: LifecycleHandler | undefined): void {
  if (h) defaultHTTPGet(h.httpGet);
}

function defaultEnv(env: EnvVar[] | undefined): void {
  for (const e of env ?? []) {
    if (e.valueFrom?.fieldRef && !e.valueFrom.fieldRef.apiVersion) e.valueFrom.fieldRef.apiVersion = 'v1';
  }
}

/**
 * canonicalResourceList rewrites quantities the way the API hands them back: rounded up to
 * milli-units (SetDefaults_ResourceList) and printed canonically ("1000m" → "1", 0.5 → "500m").
 */
export function canonicalResourceList(list: ResourceList | undefined): void {
  if (!list) return;
  for (const [name, q] of Object.entries(list)) {
    const p = parseQuantity(q);
    if (!p) continue;
    const milli = 1_000_000n;
    const rounded = p.nanos % milli === 0n ? p.nanos : p.nanos > 0n ? (p.nanos / milli + 1n) * milli : (p.nanos / milli) * milli;
    list[name] = formatQuantity(rounded, p.format);
  }
}

/** defaultContainer is SetDefaults_Container plus the nested defaults of its ports, env and probes. */
export function defaultContainer(c: Container): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imagePullPolicyFor(c.image);
  if (!c.terminationMessagePath) c.terminationMessagePath = TerminationMessagePathDefault;
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  // ResourceRequirements is a struct without omitempty in Go: it is always serialized.
  if (!c.resources) c.resources = {};
  canonicalResourceList(c.resources.limits);
  canonicalResourceList(c.resources.requests);
  for (const p of c.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
  defaultEnv(c.env);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultLifecycleHandler(c.lifecycle?.postStart);
  defaultLifecycleHandler(c.lifecycle?.preStop);
}

/** volumeSourceKeys are the VolumeSource fields in the order validation looks at them; exactly one is set on a valid volume. */
export const volumeSourceKeys = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'cinder',
  'cephfs',
  'quobyte',
  'downwardAPI',
  'fc',
  'flexVolume',
  'configMap',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'storageos',
  'projected',
  'scaleIO',
  'csi',
  'ephemeral',
  'image',
] as const;

function volumeSources(v: Volume): string[] {
  return volumeSourceKeys.filter((k) => v[k] !== undefined && v[k] !== null);
}

/** defaultVolume is SetDefaults_Volume and the defaults of the volume sources. */
export function defaultVolume(v: Volume): void {
  if (volumeSources(v).length === 0) v.emptyDir = {};
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = defaultVolumeMode;
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = defaultVolumeMode;
  if (v.downwardAPI) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = defaultVolumeMode;
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
  }
  if (v.projected) {
    if (v.projected.defaultMode === undefined) v.projected.defaultMode = defaultVolumeMode;
    for (const s of v.projected.sources ?? []) {
      if (s.serviceAccountToken && s.serviceAccountToken.expirationSeconds === undefined) s.serviceAccountToken.expirationSeconds = 3600;
      for (const item of s.downwardAPI?.items ?? []) if (item.fieldRef && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
    }
  }
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = '';
  const claimSpec = v.ephemeral?.volumeClaimTemplate?.spec;
  if (claimSpec && claimSpec.volumeMode === undefined) claimSpec.volumeMode = 'Filesystem';
}

/**
 * defaultPodSpec applies SetDefaults_PodSpec and the nested container and volume defaults; it is
 * what both a Pod and a pod template get. It also keeps the deprecated `serviceAccount` field in
 * step with `serviceAccountName`, as the v1 conversion does.
 */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!spec.securityContext) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    spec.terminationGracePeriodSeconds = DefaultTerminationGracePeriodSeconds;
  }
  if (!spec.schedulerName) spec.schedulerName = DefaultSchedulerName;
  canonicalResourceList(spec.overhead);
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  else delete spec.serviceAccount;
  for (const v of spec.volumes ?? []) defaultVolume(v);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
}

/**
 * defaultPodTemplateSpec defaults the pod template of a workload kind. The template's metadata
 * always shows `creationTimestamp: null`, as Go serializes the zero time of an embedded ObjectMeta.
 */
export function defaultPodTemplateSpec(t: PodTemplateSpec | undefined): void {
  if (!t) return;
  t.metadata ??= {};
  if (t.metadata.creationTimestamp === undefined) (t.metadata as Record<string, unknown>).creationTimestamp = null;
  if (t.spec) defaultPodSpec(t.spec);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** isRestartableInitContainer: an init container with restartPolicy Always is a sidecar. */
export function isRestartableInitContainer(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

/** visitContainers calls fn for init, regular and ephemeral containers in that order, with their paths. */
export function visitContainers(spec: PodSpec, path: Path, fn: (c: Container, p: Path) => void): void {
  (spec.initContainers ?? []).forEach((c, i) => fn(c, path.child('initContainers').index(i)));
  (spec.containers ?? []).forEach((c, i) => fn(c, path.child('containers').index(i)));
  (spec.ephemeralContainers ?? []).forEach((c, i) => fn(c, path.child('ephemeralContainers').index(i)));
}

// ---------------------------------------------------------------------------------------------
// Validation

/** PodSpecValidationOptions says what embeds the spec. */
export interface PodSpecValidationOptions {
  /** resourceIsPod: the spec belongs to a Pod, not a template (hostPort must then equal containerPort). */
  resourceIsPod?: boolean;
}

const fileModeErrorMsg = 'must be a number between 0 and 0777 (octal), both inclusive';

function validateMode(mode: number | undefined, path: Path): FieldError[] {
  if (mode === undefined || mode === null) return [];
  return mode < 0 || mode > 0o777 ? [invalidValue(path, mode, fileModeErrorMsg)] : [];
}

function validateLocalDescendingPath(p: string, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(invalidValue(path, p, 'must be a relative path'));
  if (p.split('/').includes('..')) errs.push(invalidValue(path, p, "must not contain '..'"));
  return errs;
}

function validateKeyToPaths(items: { key: string; path: string; mode?: number }[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((it, i) => {
    const p = path.index(i);
    if (!it.key) errs.push(required(p.child('key')));
    if (!it.path) errs.push(required(p.child('path')));
    else errs.push(...validateLocalDescendingPath(it.path, p.child('path')));
    errs.push(...validateMode(it.mode, p.child('mode')));
  });
  return errs;
}

function validateVolumeSource(v: Volume, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const sources = volumeSources(v);
  if (sources.length === 0) return [required(path, 'must specify a volume type')];
  // Kubernetes checks sources in a fixed order and flags every one after the first.
  for (const extra of sources.slice(1)) errs.push(forbiddenField(path.child(extra), 'may not specify more than 1 volume type'));
  switch (sources[0]) {
    case 'hostPath':
      if (!v.hostPath!.path) errs.push(required(path.child('hostPath', 'path')));
      else if (v.hostPath!.path.split('/').includes('..')) errs.push(invalidValue(path.child('hostPath', 'path'), v.hostPath!.path, "must not contain '..'"));
      break;
    case 'secret':
      if (!v.secret!.secretName) errs.push(required(path.child('secret', 'secretName')));
      errs.push(...validateMode(v.secret!.defaultMode, path.child('secret', 'defaultMode')));
      errs.push(...validateKeyToPaths(v.secret!.items, path.child('secret', 'items')));
      break;
    case 'configMap':
      if (!v.configMap!.name) errs.push(required(path.child('configMap', 'name')));
      errs.push(...validateMode(v.configMap!.defaultMode, path.child('configMap', 'defaultMode')));
      errs.push(...validateKeyToPaths(v.configMap!.items, path.child('configMap', 'items')));
      break;
    case 'persistentVolumeClaim':
      if (!v.persistentVolumeClaim!.claimName) errs.push(required(path.child('persistentVolumeClaim', 'claimName')));
      break;
    case 'nfs':
      if (!v.nfs!.server) errs.push(required(path.child('nfs', 'server')));
      if (!v.nfs!.path) errs.push(required(path.child('nfs', 'path')));
      else if (!v.nfs!.path.startsWith('/')) errs.push(invalidValue(path.child('nfs', 'path'), v.nfs!.path, 'must be an absolute path'));
      break;
    case 'downwardAPI':
      errs.push(...validateMode(v.downwardAPI!.defaultMode, path.child('downwardAPI', 'defaultMode')));
      break;
    case 'projected':
      errs.push(...validateMode(v.projected!.defaultMode, path.child('projected', 'defaultMode')));
      break;
    case 'csi':
      if (!v.csi!.driver) errs.push(required(path.child('csi', 'driver')));
      break;
  }
  return errs;
}

/** validateVolumes checks names (DNS labels, unique) and sources; it returns the valid volume names too. */
export function validateVolumes(volumes: Volume[] | undefined, path: Path): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  (volumes ?? []).forEach((v, i) => {
    const p = path.index(i);
    const el = validateVolumeSource(v, p);
    if (!v.name) el.push(required(p.child('name')));
    else el.push(...validateDNS1123Label(v.name, p.child('name')));
    if (names.has(v.name)) el.push(duplicate(p.child('name'), v.name));
    if (el.length === 0) names.add(v.name);
    else errs.push(...el);
  });
  return { names, errs };
}

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);
const standardResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);

const isHugePageResourceName = (name: string) => name.startsWith('hugepages-');
/** isNativeResource: no domain, or a kubernetes.io domain. */
const isNativeResource = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
/** isOvercommitAllowed: only native, non-hugepage resources may request less than their limit. */
export const isOvercommitAllowed = (name: string) => isNativeResource(name) && !isHugePageResourceName(name);

/** validateContainerResourceName is validateContainerResourceName: a standard container resource, a huge page size or a qualified extended name. */
export function validateContainerResourceName(name: string, path: Path): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalidValue(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!standardResources.has(name) && !isHugePageResourceName(name) && !name.startsWith('requests.hugepages-')) {
      errs.push(invalidValue(path, name, 'must be a standard resource type or fully qualified'));
    }
    if (!standardContainerResources.has(name) && !isHugePageResourceName(name)) {
      errs.push(invalidValue(path, name, 'must be a standard resource for containers'));
    }
  } else if (!isNativeResource(name) && name.startsWith('requests.')) {
    errs.push(invalidValue(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** validateResourceName is validateResourceName: a qualified name that, without a domain, is one of the standard resources. */
export function validateResourceName(name: string, path: Path): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalidValue(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !standardResources.has(name) && !isHugePageResourceName(name) && !name.startsWith('requests.hugepages-')) {
    errs.push(invalidValue(path, name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

function validateQuantityValue(name: string, q: unknown, path: Path): FieldError[] {
  const parsed = parseQuantity(q as string);
  if (!parsed) return [invalidValue(path, q, quantityFormatError)];
  if (parsed.nanos < 0n) return [invalidValue(path, canonicalQuantity(q as string), 'must be greater than or equal to 0')];
  // Extended resources are counted in whole units.
  if (!isNativeResource(name) && parsed.nanos % 1_000_000_000n !== 0n) return [invalidValue(path, q, 'must be an integer')];
  return [];
}

/** validateResourceRequirements checks names, quantities and that requests do not exceed limits. */
export function validateResourceRequirements(r: ResourceRequirements | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = r?.limits ?? {};
  const requests = r?.requests ?? {};
  let limCpuMem = false;
  let reqCpuMem = false;
  let hugePages = false;
  for (const [name, q] of Object.entries(limits)) {
    const p = limPath.key(name);
    errs.push(...validateContainerResourceName(name, p), ...validateQuantityValue(name, q, p));
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') limCpuMem = true;
  }
  for (const [name, q] of Object.entries(requests)) {
    const p = reqPath.key(name);
    errs.push(...validateContainerResourceName(name, p), ...validateQuantityValue(name, q, p));
    if (name in limits) {
      const cmp = compareQuantities(q, limits[name]);
      if (cmp !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalidValue(reqPath, canonicalQuantity(q), `must be equal to ${name} limit of ${canonicalQuantity(limits[name])}`));
      } else if (cmp > 0) {
        errs.push(invalidValue(reqPath, canonicalQuantity(q), `must be less than or equal to ${name} limit of ${canonicalQuantity(limits[name])}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') reqCpuMem = true;
  }
  if (!limCpuMem && !reqCpuMem && hugePages) errs.push(forbiddenField(path, 'HugePages require cpu or memory'));
  return errs;
}

function validateContainerPorts(c: Container, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (c.ports ?? []).forEach((port, i) => {
    const p = path.index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) errs.push(...msgs.map((m) => invalidValue(p.child('name'), port.name, m)));
      else if (names.has(port.name)) errs.push(duplicate(p.child('name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(p.child('containerPort')));
    else errs.push(...isValidPortNum(port.containerPort).map((m) => invalidValue(p.child('containerPort'), port.containerPort, m)));
    if (port.hostPort) errs.push(...isValidPortNum(port.hostPort).map((m) => invalidValue(p.child('hostPort'), port.hostPort, m)));
    if (!port.protocol) errs.push(required(p.child('protocol')));
    else if (!supportedPortProtocols.includes(port.protocol)) errs.push(notSupported(p.child('protocol'), port.protocol, supportedPortProtocols));
  });
  return errs;
}

const validEnvFieldPaths = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
/** convertibleFieldPaths are the downward API field labels the v1 conversion accepts at all. */
const convertibleFieldPaths = new Set([...validEnvFieldPaths, 'metadata.annotations', 'metadata.labels', 'spec.restartPolicy', 'spec.schedulerName', 'status.phase']);
const validResourceFieldPaths = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

/** validateFieldRef is validateObjectFieldSelector for env vars and downward API volumes. */
export function validateFieldRef(ref: { apiVersion?: string; fieldPath?: string }, allowed: readonly string[], path: Path): FieldError[] {
  if (!ref.apiVersion) return [required(path.child('apiVersion'))];
  if (!ref.fieldPath) return [required(path.child('fieldPath'))];
  const m = /^(metadata\.(?:annotations|labels))\['(.*)'\]$/.exec(ref.fieldPath);
  if (m) {
    const key = m[1] === 'metadata.annotations' ? m[2].toLowerCase() : m[2];
    return validateQualifiedName(key, path);
  }
  if (ref.apiVersion !== 'v1' || !convertibleFieldPaths.has(ref.fieldPath)) {
    return [invalidValue(path.child('fieldPath'), ref.fieldPath, `error converting fieldPath: field label not supported: ${ref.fieldPath}`)];
  }
  if (!allowed.includes(ref.fieldPath)) return [notSupported(path.child('fieldPath'), ref.fieldPath, allowed)];
  return [];
}

function validateKeySelector(s: { name?: string; key?: string }, path: Path): FieldError[] {
  const errs = isDNS1123Subdomain(s.name ?? '').map((m) => invalidValue(path.child('name'), s.name ?? '', m));
  if (!s.key) errs.push(required(path.child('key')));
  else errs.push(...isConfigMapKey(s.key).map((m) => invalidValue(path.child('key'), s.key, m)));
  return errs;
}

function validateEnv(env: EnvVar[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (env ?? []).forEach((e, i) => {
    const p = path.index(i);
    if (!e.name) errs.push(required(p.child('name')));
    else errs.push(...isEnvVarName(e.name).map((m) => invalidValue(p.child('name'), e.name, m)));
    const vf = e.valueFrom;
    if (!vf) return;
    const vp = p.child('valueFrom');
    let n = 0;
    if (vf.fieldRef) {
      n++;
      errs.push(...validateFieldRef(vf.fieldRef, validEnvFieldPaths, vp.child('fieldRef')));
    }
    if (vf.resourceFieldRef) {
      n++;
      const r = vf.resourceFieldRef;
      const rp = vp.child('resourceFieldRef');
      if (!r.resource) errs.push(required(rp.child('resource')));
      else if (!validResourceFieldPaths.includes(r.resource) && !/^(requests|limits)\.hugepages-/.test(r.resource)) {
        errs.push(notSupported(rp.child('resource'), r.resource, validResourceFieldPaths));
      }
    }
    if (vf.configMapKeyRef) {
      n++;
      errs.push(...validateKeySelector(vf.configMapKeyRef, vp.child('configMapKeyRef')));
    }
    if (vf.secretKeyRef) {
      n++;
      errs.push(...validateKeySelector(vf.secretKeyRef, vp.child('secretKeyRef')));
    }
    if (n === 0) errs.push(invalidValue(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (e.value) errs.push(invalidValue(vp, '', 'may not be specified when `value` is not empty'));
    else if (n > 1) errs.push(invalidValue(vp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: EnvFromSource[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (envFrom ?? []).forEach((e, i) => {
    const p = path.index(i);
    if (e.prefix) errs.push(...isEnvVarName(e.prefix).map((m) => invalidValue(p.child('prefix'), e.prefix, m)));
    let n = 0;
    for (const key of ['configMapRef', 'secretRef'] as const) {
      const ref = e[key];
      if (!ref) continue;
      n++;
      if (!ref.name) errs.push(required(p.child(key, 'name')));
      else errs.push(...validateDNS1123Subdomain(maskTrailingDash(ref.name), p.child(key, 'name')).map((x) => ({ ...x, value: ref.name })));
    }
    if (n === 0) errs.push(invalidValue(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalidValue(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -1) + 'a' : name;
}

function validateVolumeMounts(mounts: VolumeMount[] | undefined, volumes: Set<string>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  (mounts ?? []).forEach((m, i) => {
    const p = path.index(i);
    if (!m.name) errs.push(required(p.child('name')));
    if (!volumes.has(m.name)) errs.push(notFoundField(p.child('name'), m.name ?? ''));
    if (!m.mountPath) errs.push(required(p.child('mountPath')));
    if (mountPoints.has(m.mountPath)) errs.push(invalidValue(p.child('mountPath'), m.mountPath, 'must be unique'));
    mountPoints.add(m.mountPath);
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, path.child('subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalidValue(p.child('subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, path.child('subPathExpr')));
    }
  });
  return errs;
}

const pullPolicies = ['Always', 'IfNotPresent', 'Never'];

function validateContainerCommon(c: Container, volumes: Set<string>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(path.child('name')));
  else errs.push(...validateDNS1123Label(c.name, path.child('name')));
  if (!c.image) errs.push(required(path.child('image')));
  switch (c.terminationMessagePolicy ?? '') {
    case 'File':
    case 'FallbackToLogsOnError':
      break;
    case '':
      errs.push(required(path.child('terminationMessagePolicy')));
      break;
    default:
      errs.push(notSupported(path.child('terminationMessagePolicy'), c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validateContainerPorts(c, path.child('ports')));
  errs.push(...validateEnv(c.env, path.child('env')));
  errs.push(...validateEnvFrom(c.envFrom, path.child('envFrom')));
  errs.push(...validateVolumeMounts(c.volumeMounts, volumes, path.child('volumeMounts')));
  if (!c.imagePullPolicy) errs.push(required(path.child('imagePullPolicy')));
  else if (!pullPolicies.includes(c.imagePullPolicy)) errs.push(notSupported(path.child('imagePullPolicy'), c.imagePullPolicy, pullPolicies));
  errs.push(...validateResourceRequirements(c.resources, path.child('resources')));
  const sc = c.securityContext;
  if (sc) {
    for (const k of ['runAsUser', 'runAsGroup'] as const) {
      const v = sc[k];
      if (v !== undefined && (v < 0 || v > 2147483647)) errs.push(invalidValue(path.child('securityContext', k), v, inclusiveRangeError(0, 2147483647)));
    }
    if (sc.allowPrivilegeEscalation === false && sc.privileged === true) {
      errs.push(invalidValue(path.child('securityContext'), sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    }
  }
  return errs;
}

function validateHTTPGet(h: HTTPGetAction, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!h.path) errs.push(required(path.child('path')));
  errs.push(...validatePortNumOrName(h.port, path.child('port')));
  if (!['HTTP', 'HTTPS'].includes(h.scheme ?? '')) errs.push(notSupported(path.child('scheme'), h.scheme ?? '', ['HTTP', 'HTTPS']));
  for (const header of h.httpHeaders ?? []) {
    if (!/^[-A-Za-z0-9]+$/.test(header.name)) {
      errs.push(
        invalidValue(
          path.child('httpHeaders'),
          header.name,
          "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
        ),
      );
    }
  }
  return errs;
}

function validateHandler(h: LifecycleHandler & Probe, grace: number | bigint | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const one = (key: string, check: () => FieldError[]) => {
    if (n > 0) errs.push(forbiddenField(path.child(key), 'may not specify more than 1 handler type'));
    else {
      n++;
      errs.push(...check());
    }
  };
  if (h.exec) one('exec', () => (h.exec!.command?.length ? [] : [required(path.child('exec', 'command'))]));
  if (h.httpGet) one('httpGet', () => validateHTTPGet(h.httpGet!, path.child('httpGet')));
  if (h.tcpSocket) one('tcpSocket', () => validatePortNumOrName(h.tcpSocket!.port, path.child('tcpSocket', 'port')));
  if (h.grpc) one('grpc', () => validatePortNumOrName(h.grpc!.port, path.child('grpc', 'port')));
  if (h.sleep) {
    one('sleep', () => {
      const s = h.sleep!.seconds;
      if (grace !== undefined && (s <= 0 || s > grace)) {
        return [
          invalidValue(
            path.child('sleep'),
            s,
            `must be greater than 0 and less than terminationGracePeriodSeconds (${grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
          ),
        ];
      }
      return [];
    });
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(p: Probe | undefined, kind: 'liveness' | 'readiness' | 'startup', grace: number | bigint | undefined, path: Path): FieldError[] {
  if (!p) return [];
  const errs = validateHandler(p as LifecycleHandler & Probe, grace, path);
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...validateNonnegative(p[k], path.child(k)));
  }
  if (p.terminationGracePeriodSeconds !== undefined && p.terminationGracePeriodSeconds !== null && p.terminationGracePeriodSeconds <= 0) {
    errs.push(invalidValue(path.child('terminationGracePeriodSeconds'), p.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind !== 'readiness' && p.successThreshold !== 1) errs.push(invalidValue(path.child('successThreshold'), p.successThreshold, 'must be 1'));
  if (kind === 'readiness' && p.terminationGracePeriodSeconds !== undefined && p.terminationGracePeriodSeconds !== null) {
    errs.push(invalidValue(path.child('terminationGracePeriodSeconds'), p.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  return errs;
}

function validateLifecycleAndProbes(c: Container, grace: number | bigint | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (c.lifecycle?.postStart) errs.push(...validateHandler(c.lifecycle.postStart as LifecycleHandler & Probe, grace, path.child('lifecycle', 'postStart')));
  if (c.lifecycle?.preStop) errs.push(...validateHandler(c.lifecycle.preStop as LifecycleHandler & Probe, grace, path.child('lifecycle', 'preStop')));
  errs.push(...validateProbe(c.livenessProbe, 'liveness', grace, path.child('livenessProbe')));
  errs.push(...validateProbe(c.readinessProbe, 'readiness', grace, path.child('readinessProbe')));
  errs.push(...validateProbe(c.startupProbe, 'startup', grace, path.child('startupProbe')));
  return errs;
}

function checkHostPortConflicts(containers: Container[], path: Path, ports = new Set<string>()): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((p, pi) => {
      if (!p.hostPort) return;
      const key = `${p.protocol ?? ''}/${p.hostIP ?? ''}/${p.hostPort}`;
      if (ports.has(key)) errs.push(duplicate(path.index(ci).child('ports').index(pi).child('hostPort'), key));
      else ports.add(key);
    });
  });
  return errs;
}

function validateContainers(spec: PodSpec, volumes: Set<string>, path: Path): FieldError[] {
  const containers = spec.containers ?? [];
  if (containers.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  const grace = spec.terminationGracePeriodSeconds;
  containers.forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else names.add(c.name);
    errs.push(...validateLifecycleAndProbes(c, grace, p));
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) errs.push(forbiddenField(p.child('restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(containers, path));
  return errs;
}

function validateInitContainers(spec: PodSpec, volumes: Set<string>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set((spec.containers ?? []).map((c) => c.name));
  const grace = spec.terminationGracePeriodSeconds;
  (spec.initContainers ?? []).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p));
    let restartAlways = false;
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
      if (c.restartPolicy !== 'Always') errs.push(notSupported(p.child('restartPolicy'), c.restartPolicy, ['Always']));
      restartAlways = c.restartPolicy === 'Always';
    }
    if (names.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else if (c.name) names.add(c.name);
    // Init containers run one at a time, so each is checked for host port conflicts alone.
    errs.push(...checkHostPortConflicts([c], path));
    if (restartAlways) errs.push(...validateLifecycleAndProbes(c, grace, p));
    else {
      for (const k of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (c[k]) errs.push(forbiddenField(p.child(k), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

function validateEphemeralContainers(spec: PodSpec, volumes: Set<string>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const others = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name));
  const all = new Set(others);
  (spec.ephemeralContainers ?? []).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p));
    if (all.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else all.add(c.name);
    if (c.targetContainerName && !others.has(c.targetContainerName)) errs.push(notFoundField(p.child('targetContainerName'), c.targetContainerName));
    for (const k of ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const) {
      const v = c[k];
      const set = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && !(k === 'resources' && Object.keys(v).length === 0);
      if (set) errs.push(forbiddenField(p.child(k), 'cannot be set for an Ephemeral Container'));
    }
  });
  return errs;
}

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

function validateDNSConfig(spec: PodSpec, path: Path): FieldError[] {
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === 'None') {
    if (!cfg) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (!cfg.nameservers?.length) return [required(path.child('nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!cfg) return [];
  const errs: FieldError[] = [];
  if ((cfg.nameservers?.length ?? 0) > 3) errs.push(invalidValue(path.child('nameservers'), cfg.nameservers, 'must not have more than 3 nameservers'));
  (cfg.nameservers ?? []).forEach((ns, i) => errs.push(...validateIP(ns, path.child('nameservers').index(i))));
  if ((cfg.searches?.length ?? 0) > 32) errs.push(invalidValue(path.child('searches'), cfg.searches, 'must not have more than 32 search paths'));
  (cfg.searches ?? []).forEach((s, i) => errs.push(...validateDNS1123Subdomain(s.replace(/\.$/, ''), path.child('searches').index(i))));
  (cfg.options ?? []).forEach((o, i) => {
    if (!o.name) errs.push(required(path.child('options').index(i), 'must not be empty'));
  });
  return errs;
}

function validatePodSecurityContext(spec: PodSpec, path: Path): FieldError[] {
  const sc = spec.securityContext;
  if (!sc) return [];
  const errs: FieldError[] = [];
  const idRange = (v: number | undefined, p: Path) =>
    v !== undefined && v !== null && (v < 0 || v > 2147483647) ? [invalidValue(p, v, inclusiveRangeError(0, 2147483647))] : [];
  errs.push(...idRange(sc.fsGroup, path.child('fsGroup')));
  errs.push(...idRange(sc.runAsUser, path.child('runAsUser')));
  errs.push(...idRange(sc.runAsGroup, path.child('runAsGroup')));
  (sc.supplementalGroups ?? []).forEach((g, i) => errs.push(...idRange(g, path.child('supplementalGroups').index(i))));
  if (spec.shareProcessNamespace && spec.hostPID) {
    errs.push(invalidValue(path.child('shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  return errs;
}

/** validatePodSpec is ValidatePodSpec: the checks every pod spec gets, in a Pod or a template. */
export function validatePodSpec(spec: PodSpec | undefined, path: Path, opts: PodSpecValidationOptions = {}): FieldError[] {
  if (!spec) return [required(path)];
  const errs: FieldError[] = [];
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    errs.push(required(path.child('terminationGracePeriodSeconds')));
  }
  const { names: volumes, errs: volErrs } = validateVolumes(spec.volumes, path.child('volumes'));
  errs.push(...volErrs);
  errs.push(...validateContainers(spec, volumes, path.child('containers')));
  errs.push(...validateInitContainers(spec, volumes, path.child('initContainers')));
  errs.push(...validateEphemeralContainers(spec, volumes, path.child('ephemeralContainers')));

  if (spec.hostNetwork) {
    (spec.containers ?? []).forEach((c, i) =>
      (c.ports ?? []).forEach((port, j) => {
        const hp = port.hostPort ?? 0;
        if ((opts.resourceIsPod || hp !== 0) && hp !== port.containerPort) {
          errs.push(invalidValue(path.child('containers').index(i).child('ports').index(j).child('hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
        }
      }),
    );
  }
  if (!spec.restartPolicy) errs.push(required(path.child('restartPolicy')));
  else if (!restartPolicies.includes(spec.restartPolicy)) errs.push(notSupported(path.child('restartPolicy'), spec.restartPolicy, restartPolicies));
  if (!spec.dnsPolicy) errs.push(required(path.child('dnsPolicy')));
  else if (!dnsPolicies.includes(spec.dnsPolicy)) errs.push(notSupported(path.child('dnsPolicy'), spec.dnsPolicy, dnsPolicies));
  errs.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  errs.push(...validatePodSecurityContext(spec, path.child('securityContext')));
  (spec.imagePullSecrets ?? []).forEach((s, i) => {
    if (Object.keys(s).some((k) => k !== 'name')) errs.push(invalidValue(path.child('imagePullSecrets').index(i), s, 'only name may be set'));
  });
  errs.push(...validateDNSConfig(spec, path.child('dnsConfig')));
  (spec.readinessGates ?? []).forEach((g, i) => errs.push(...validateQualifiedName(g.conditionType ?? '', path.child('readinessGates').index(i).child('conditionType'))));
  const gates = new Set<string>();
  (spec.schedulingGates ?? []).forEach((g, i) => {
    errs.push(...validateQualifiedName(g.name ?? '', path.child('schedulingGates').index(i)));
    if (gates.has(g.name)) errs.push(duplicate(path.child('schedulingGates').index(i), g.name));
    gates.add(g.name);
  });
  if (spec.serviceAccountName) {
    errs.push(...isDNS1123Subdomain(spec.serviceAccountName).map((m) => invalidValue(path.child('serviceAccountName'), spec.serviceAccountName, m)));
  }
  if (spec.nodeName) errs.push(...isDNS1123Subdomain(spec.nodeName).map((m) => invalidValue(path.child('nodeName'), spec.nodeName, m)));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const v = spec.activeDeadlineSeconds;
    if (v < 1 || v > 2147483647) errs.push(invalidValue(path.child('activeDeadlineSeconds'), v, inclusiveRangeError(1, 2147483647)));
  }
  if (spec.hostname) errs.push(...validateDNS1123Label(spec.hostname, path.child('hostname')));
  if (spec.subdomain) errs.push(...validateDNS1123Label(spec.subdomain, path.child('subdomain')));
  if (spec.tolerations?.length) errs.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  (spec.hostAliases ?? []).forEach((a, i) => {
    const p = path.child('hostAliases').index(i);
    errs.push(...validateIP(a.ip ?? '', p.child('ip')));
    (a.hostnames ?? []).forEach((h, j) => errs.push(...validateDNS1123Subdomain(h, p.child('hostnames').index(j))));
  });
  if (spec.priorityClassName) {
    errs.push(...isDNS1123Subdomain(spec.priorityClassName).map((m) => invalidValue(path.child('priorityClassName'), spec.priorityClassName, m)));
  }
  if (spec.runtimeClassName !== undefined && spec.runtimeClassName !== null) {
    errs.push(...validateDNS1123Subdomain(spec.runtimeClassName, path.child('runtimeClassName')));
  }
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null) {
    if (!spec.preemptionPolicy) errs.push(required(path.child('preemptionPolicy')));
    else if (!['PreemptLowerPriority', 'Never'].includes(spec.preemptionPolicy)) {
      errs.push(notSupported(path.child('preemptionPolicy'), spec.preemptionPolicy, ['PreemptLowerPriority', 'Never']));
    }
  }
  if (spec.os) {
    if (!spec.os.name) errs.push(required(path.child('os', 'name')));
    else if (!['linux', 'windows'].includes(spec.os.name)) errs.push(notSupported(path.child('os', 'name'), spec.os.name, ['linux', 'windows']));
  }
  return errs;
}

const mirrorPodAnnotation = 'kubernetes.io/config.mirror';
const podDeletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

/** validatePodSpecificAnnotations checks the annotations Kubernetes gives meaning to on pods and templates. */
export function validatePodSpecificAnnotations(annotations: Record<string, string> | undefined, spec: PodSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const a = annotations ?? {};
  if (mirrorPodAnnotation in a && !spec.nodeName) {
    errs.push(invalidValue(path.key(mirrorPodAnnotation), a[mirrorPodAnnotation], 'must set spec.nodeName if mirror pod annotation is set'));
  }
  if (podDeletionCostAnnotation in a) {
    const v = a[podDeletionCostAnnotation];
    const n = Number(v);
    if (!/^-?[0-9]+$/.test(v) || n < -2147483648 || n > 2147483647) {
      errs.push(invalidValue(path.key(podDeletionCostAnnotation), v, 'must be a 32bit integer'));
    }
  }
  return errs;
}

/** validatePodTemplateSpec is ValidatePodTemplateSpec, for the templates of workload kinds. */
export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, path: Path): FieldError[] {
  if (!template) return [required(path)];
  const errs: FieldError[] = [];
  const meta: ObjectMeta = template.metadata ?? {};
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  if (!template.spec) return [...errs, required(path.child('spec'))];
  errs.push(...validatePodSpecificAnnotations(meta.annotations, template.spec, path.child('annotations')));
  errs.push(...validatePodSpec(template.spec, path.child('spec')));
  if (template.spec.ephemeralContainers?.length) {
    errs.push(forbiddenField(path.child('spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}
