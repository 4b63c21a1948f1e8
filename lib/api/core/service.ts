// core/v1 Service: types, defaults, the strategy (clusterIP/clusterIPs normalization, keeping
// allocated values on re-apply, dropping fields a type change makes meaningless, IP families for
// a single-stack IPv4 cluster), validation with Kubernetes' messages, the table and field
// selectors. Allocating cluster IPs and node ports is the registry's job; the pure helpers at
// the end tell it what to allocate.

import {
  type FieldError,
  Path,
  duplicate,
  forbiddenField,
  invalidValue,
  notSupported,
  required,
} from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isDNS1123Subdomain, nameIsDNS1035Label, validateLabels, validateObjectMeta } from '../../machinery/validation.js';
import type { Condition, KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import type { IntOrString } from './types.js';
import { supportedPortProtocols } from './types.js';
import {
  fieldImmutableErrorMsg,
  formatLabels,
  isValidPortNum,
  validateCIDR,
  validateDNS1123Label,
  validateIP,
  validateNonSpecialIP,
  validatePortNumOrName,
  validateQualifiedName,
} from './validation.js';
import { isIPv6String, parseIPSloppy } from '../../net/ip.js';
import { serviceWarnings } from './servicewarnings.js';

// ---------------------------------------------------------------------------------------------
// Types

export const ServiceType = {
  ClusterIP: 'ClusterIP',
  NodePort: 'NodePort',
  LoadBalancer: 'LoadBalancer',
  ExternalName: 'ExternalName',
} as const;
export type ServiceType = (typeof ServiceType)[keyof typeof ServiceType];

/** ClusterIPNone marks a headless service. */
export const ClusterIPNone = 'None';
/** DefaultClientIPServiceAffinitySeconds is the ClientIP affinity timeout when none is given (3 hours). */
export const DefaultClientIPServiceAffinitySeconds = 10800;
const MaxClientIPServiceAffinitySeconds = 86400;

export interface ServicePort {
  name?: string;
  protocol?: string;
  appProtocol?: string;
  port: number;
  targetPort?: IntOrString;
  nodePort?: number;
}

export interface SessionAffinityConfig {
  clientIP?: { timeoutSeconds?: number };
}

export interface ServiceSpec {
  ports?: ServicePort[];
  selector?: Record<string, string>;
  clusterIP?: string;
  clusterIPs?: string[];
  type?: string;
  externalIPs?: string[];
  sessionAffinity?: string;
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  externalName?: string;
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
  publishNotReadyAddresses?: boolean;
  sessionAffinityConfig?: SessionAffinityConfig;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  allocateLoadBalancerNodePorts?: boolean;
  loadBalancerClass?: string;
  internalTrafficPolicy?: string;
  trafficDistribution?: string;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
  ports?: { port: number; protocol: string; error?: string }[];
}

export interface ServiceStatus {
  loadBalancer?: { ingress?: LoadBalancerIngress[] };
  conditions?: Condition[];
}

/** Service is core/v1 Service. */
export interface Service extends KubeObject {
  spec: ServiceSpec;
  status?: ServiceStatus;
}

/**
 * clusterIPFamilies are the IP families this cluster serves Services in. Lab clusters are
 * single-stack IPv4 (10.96.0.0/12), which is what drives the IP family defaults below.
 */
export const clusterIPFamilies: readonly string[] = ['IPv4'];

// ---------------------------------------------------------------------------------------------
// Helpers

/** isHeadlessService: clusterIP None (no virtual IP; DNS returns the endpoints). */
export function isHeadlessService(svc: Service): boolean {
  const ips = svc.spec?.clusterIPs ?? [];
  return ips.length === 1 && ips[0] === ClusterIPNone;
}

/** externallyAccessible: NodePort and LoadBalancer services, and ClusterIP ones with external IPs. */
export function externallyAccessible(svc: Service): boolean {
  const t = svc.spec?.type;
  return t === ServiceType.LoadBalancer || t === ServiceType.NodePort || (t === ServiceType.ClusterIP && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

/** needsClusterIP: every type but ExternalName has a cluster IP (or "None"). */
export function needsClusterIP(svc: Service): boolean {
  return svc.spec?.type !== ServiceType.ExternalName;
}

/** needsNodePort: NodePort and LoadBalancer services expose ports on every node. */
export function needsNodePort(svc: Service): boolean {
  return svc.spec?.type === ServiceType.NodePort || svc.spec?.type === ServiceType.LoadBalancer;
}

/** needsHealthCheckNodePort: a LoadBalancer with externalTrafficPolicy Local gets a health check port. */
export function needsHealthCheckNodePort(svc: Service): boolean {
  return svc.spec?.type === ServiceType.LoadBalancer && svc.spec?.externalTrafficPolicy === 'Local';
}

/**
 * serviceNeedsClusterIPAllocation: the registry must allocate a cluster IP (none was asked for)
 * or reserve the requested one. False for ExternalName and headless services.
 */
export function serviceNeedsClusterIPAllocation(svc: Service): boolean {
  return needsClusterIP(svc) && svc.spec?.clusterIP !== ClusterIPNone;
}

/**
 * servicePortsNeedingNodePorts lists the ports that must hold a node port: every port of a
 * NodePort service, and of a LoadBalancer unless allocateLoadBalancerNodePorts is false (then
 * only the ports the user gave one). A port with nodePort unset needs one allocated; one with a
 * value needs exactly that one reserved. Kubernetes gives ports with the same number but another
 * protocol (53/TCP and 53/UDP) the same node port.
 */
export function servicePortsNeedingNodePorts(svc: Service): ServicePort[] {
  if (!needsNodePort(svc)) return [];
  const ports = svc.spec?.ports ?? [];
  if (svc.spec.type === ServiceType.LoadBalancer && svc.spec.allocateLoadBalancerNodePorts === false) return ports.filter((p) => !!p.nodePort);
  return ports;
}

function sameStrings(a: string[] | undefined, b: string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameClusterIPs(a: Service, b: Service): boolean {
  return (a.spec.clusterIP ?? '') === (b.spec.clusterIP ?? '') && sameStrings(a.spec.clusterIPs, b.spec.clusterIPs);
}

/**
 * normalizeClusterIPs keeps clusterIP and clusterIPs in step, guessing what an old client that
 * only knows the singular field meant (on create `old` is undefined).
 */
export function normalizeClusterIPs(svc: Service, old: Service | undefined): void {
  const spec = svc.spec;
  if (!old) {
    if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  // An old client patched some other field and did not send clusterIPs: keep them.
  if (old.spec.clusterIPs?.length && !spec.clusterIPs?.length && (old.spec.clusterIP ?? '') === (spec.clusterIP ?? '')) {
    spec.clusterIPs = [...old.spec.clusterIPs];
  }
  if ((old.spec.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    if (old.spec.clusterIP && !spec.clusterIP) {
      // The client cleared clusterIP; clear clusterIPs on its behalf if it left them alone.
      if (sameStrings(old.spec.clusterIPs, spec.clusterIPs)) delete spec.clusterIPs;
    } else if (sameStrings(old.spec.clusterIPs, spec.clusterIPs)) {
      spec.clusterIPs = [spec.clusterIP!];
    }
  }
}

/**
 * patchAllocatedValues lets a client re-submit the YAML it created the service from: a cluster
 * IP, node ports (matched by port name) or health check port the server allocated are kept
 * when the update leaves them out.
 */
export function patchAllocatedValues(svc: Service, old: Service): void {
  const spec = svc.spec;
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP && old.spec.clusterIP) spec.clusterIP = old.spec.clusterIP;
    if (!spec.clusterIPs?.length && old.spec.clusterIPs?.length) spec.clusterIPs = [...old.spec.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(svc)) {
    const inNew = new Set((spec.ports ?? []).map((p) => p.nodePort).filter((n) => !!n));
    const used = new Set((old.spec.ports ?? []).map((p) => p.nodePort).filter((n) => !!n && inNew.has(n)));
    const byName = new Map<string, number>();
    for (const p of old.spec.ports ?? []) byName.set(p.name ?? '', p.nodePort ?? 0);
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const prev = byName.get(p.name ?? '') ?? 0;
      if (prev && !used.has(prev)) p.nodePort = prev;
    }
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && !spec.healthCheckNodePort && old.spec.healthCheckNodePort) {
    spec.healthCheckNodePort = old.spec.healthCheckNodePort;
  }
}

/** dropTypeDependentFields wipes what a type change leaves meaningless, unless the user changed it too. */
export function dropTypeDependentFields(svc: Service, old: Service): void {
  const spec = svc.spec;
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (sameClusterIPs(old, svc)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameStrings(old.spec.ipFamilies, spec.ipFamilies)) delete spec.ipFamilies;
    if ((old.spec.ipFamilyPolicy ?? '') === (spec.ipFamilyPolicy ?? '')) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(svc)) {
    const oldPorts = new Set((old.spec.ports ?? []).map((p) => p.nodePort).filter((n) => !!n));
    const noNew = (spec.ports ?? []).every((p) => !p.nodePort || oldPorts.has(p.nodePort));
    if (noNew) for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(svc) && (old.spec.healthCheckNodePort ?? 0) === (spec.healthCheckNodePort ?? 0)) {
    delete spec.healthCheckNodePort;
  }
  if (old.spec.type === ServiceType.LoadBalancer && spec.type !== ServiceType.LoadBalancer) {
    if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts === old.spec.allocateLoadBalancerNodePorts) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if ((spec.loadBalancerClass ?? null) === (old.spec.loadBalancerClass ?? null)) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(svc) && (old.spec.externalTrafficPolicy ?? '') === (spec.externalTrafficPolicy ?? '')) {
    delete spec.externalTrafficPolicy;
  }
  if (spec.type !== ServiceType.LoadBalancer) svc.status = { ...(svc.status ?? {}), loadBalancer: {} };
}

function isHeadlessSelectorless(svc: Service): boolean {
  return svc.spec.clusterIP === ClusterIPNone && Object.keys(svc.spec.selector ?? {}).length === 0;
}

/**
 * initIPFamilyFields fills ipFamilyPolicy and ipFamilies as the allocator does in a single-stack
 * cluster: SingleStack with the cluster's family, except a headless service without selector,
 * which may carry both families and defaults to RequireDualStack.
 */
export function initIPFamilyFields(svc: Service): void {
  const spec = svc.spec;
  if (spec.type === ServiceType.ExternalName) return;
  if (isHeadlessSelectorless(svc)) {
    if (!spec.ipFamilies?.length) spec.ipFamilies = [clusterIPFamilies[0]];
    if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'RequireDualStack';
    if (spec.ipFamilyPolicy !== 'SingleStack' && spec.ipFamilies.length === 1) {
      spec.ipFamilies.push(spec.ipFamilies[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    }
    return;
  }
  if (!spec.ipFamilyPolicy) {
    spec.ipFamilyPolicy = (spec.ipFamilies?.length ?? 0) === 2 || (spec.clusterIPs?.length ?? 0) === 2 ? 'RequireDualStack' : 'SingleStack';
  }
  if (!spec.ipFamilies?.length) {
    const ip = spec.clusterIPs?.[0];
    spec.ipFamilies = [ip && ip !== ClusterIPNone ? (isIPv6String(ip) ? 'IPv6' : 'IPv4') : clusterIPFamilies[0]];
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults and strategy

/** defaultService is SetDefaults_Service. */
export function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined || spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === null)) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DefaultClientIPServiceAffinitySeconds } };
  }
  if (!spec.type) spec.type = ServiceType.ClusterIP;
  for (const p of spec.ports ?? []) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(svc) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (!spec.internalTrafficPolicy && [ServiceType.NodePort, ServiceType.LoadBalancer, ServiceType.ClusterIP].includes(spec.type as 'ClusterIP')) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === ServiceType.LoadBalancer) {
    if (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null) spec.allocateLoadBalancerNodePorts = true;
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
}

function prepareForCreate(svc: Service): void {
  // LoadBalancerStatus is a struct without omitempty: a new service shows `loadBalancer: {}`.
  svc.status = { loadBalancer: {} };
  normalizeClusterIPs(svc, undefined);
  initIPFamilyFields(svc);
}

function prepareForUpdate(svc: Service, old: Service): void {
  svc.status = structuredClone(old.status ?? { loadBalancer: {} });
  patchAllocatedValues(svc, old);
  normalizeClusterIPs(svc, old);
  dropTypeDependentFields(svc, old);
  initIPFamilyFields(svc);
}

function prepareForStatusUpdate(svc: Service, old: Service): void {
  svc.spec = structuredClone(old.spec);
  svc.status ??= {};
  svc.status.loadBalancer ??= {};
}

// ---------------------------------------------------------------------------------------------
// Validation

const specPath = new Path('spec');
const supportedServiceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const supportedSessionAffinity = ['ClientIP', 'None'];
const supportedTrafficPolicies = ['Cluster', 'Local'];
const supportedIPFamilies = ['IPv4', 'IPv6'];
const supportedIPFamilyPolicies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) errs.push(required(path.child('name')));
  else if (sp.name) {
    errs.push(...validateDNS1123Label(sp.name, path.child('name')));
    if (names.has(sp.name)) errs.push(duplicate(path.child('name'), sp.name));
    else names.add(sp.name);
  }
  errs.push(...isValidPortNum(sp.port).map((m) => invalidValue(path.child('port'), sp.port ?? 0, m)));
  if (!sp.protocol) errs.push(required(path.child('protocol')));
  else if (!supportedPortProtocols.includes(sp.protocol)) errs.push(notSupported(path.child('protocol'), sp.protocol, supportedPortProtocols));
  errs.push(...validatePortNumOrName(sp.targetPort, path.child('targetPort')));
  if (sp.appProtocol !== undefined && sp.appProtocol !== null) errs.push(...validateQualifiedName(sp.appProtocol, path.child('appProtocol')));
  return errs;
}

/** validateClusterIPsRelatedFields is ValidateServiceClusterIPsRelatedFields, plus what this single-stack cluster can serve. */
function validateClusterIPsRelatedFields(svc: Service): FieldError[] {
  const spec = svc.spec;
  if (spec.type === ServiceType.ExternalName) return [];
  const errs: FieldError[] = [];
  const ipsPath = specPath.child('clusterIPs');
  const famPath = specPath.child('ipFamilies');
  const clusterIPs = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (!clusterIPs.length) errs.push(required(ipsPath));
    else if (clusterIPs[0] !== spec.clusterIP) errs.push(invalidValue(ipsPath, clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length) {
    errs.push(invalidValue(ipsPath, clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!supportedIPFamilies.includes(f)) errs.push(notSupported(famPath.index(i), f, supportedIPFamilies));
    if (seen.has(f)) errs.push(duplicate(famPath.index(i), f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy && !supportedIPFamilyPolicies.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported(specPath.child('ipFamilyPolicy'), spec.ipFamilyPolicy, supportedIPFamilyPolicies));
  }
  let badIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === ClusterIPNone) {
      if (clusterIPs.length > 1) {
        badIPs = true;
        errs.push(invalidValue(ipsPath, clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const e = validateIP(ip, ipsPath.index(i));
    if (e.length) badIPs = true;
    errs.push(...e);
  });
  if (clusterIPs.length > 2) errs.push(invalidValue(ipsPath, clusterIPs, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (clusterIPs.length > 1) {
    const fams = clusterIPs.map((ip) => parseIPSloppy(ip)?.family);
    if (fams[0] === fams[1]) errs.push(invalidValue(ipsPath, clusterIPs, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadlessService(svc) && clusterIPs.length && spec.ipFamilies?.length) {
    clusterIPs.forEach((ip, i) => {
      const fam = spec.ipFamilies![i];
      if (fam === 'IPv4' && isIPv6String(ip)) errs.push(invalidValue(ipsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fam === 'IPv6' && fam !== undefined && !isIPv6String(ip)) errs.push(invalidValue(ipsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  // What the allocator of a single-stack cluster refuses (headless, selectorless services may ask for anything).
  if (!isHeadlessSelectorless(svc)) {
    if (spec.ipFamilyPolicy === 'RequireDualStack' && clusterIPFamilies.length < 2) {
      errs.push(invalidValue(specPath.child('ipFamilyPolicy'), spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
    }
    (spec.ipFamilies ?? []).forEach((f, i) => {
      if (supportedIPFamilies.includes(f) && !clusterIPFamilies.includes(f)) {
        errs.push(invalidValue(famPath.index(i), spec.ipFamilies, `ipfamily ${f} is not configured on cluster`));
      }
    });
  }
  return errs;
}

/** validateService is ValidateService. */
export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label);
  const spec = svc.spec;
  if (!spec) return [...errs, required(specPath)];
  const annotations = svc.metadata?.annotations ?? {};
  const hintsKey = 'service.kubernetes.io/topology-aware-hints';
  const modeKey = 'service.kubernetes.io/topology-mode';
  if (hintsKey in annotations && modeKey in annotations && annotations[hintsKey] !== annotations[modeKey]) {
    errs.push(invalidValue(new Path('metadata').child('annotations').key(modeKey), annotations[modeKey], `must match annotations[${hintsKey}] when both are specified`));
  }
  const headless = isHeadlessService(svc);
  if (!spec.ports?.length && !headless && spec.type !== ServiceType.ExternalName) errs.push(required(specPath.child('ports')));
  switch (spec.type) {
    case ServiceType.LoadBalancer:
      if (headless) errs.push(invalidValue(specPath.child('clusterIPs').index(0), spec.clusterIPs![0], "may not be set to 'None' for LoadBalancer services"));
      break;
    case ServiceType.NodePort:
      if (headless) errs.push(invalidValue(specPath.child('clusterIPs').index(0), spec.clusterIPs![0], "may not be set to 'None' for NodePort services"));
      break;
    case ServiceType.ExternalName: {
      if (spec.clusterIPs?.length) errs.push(forbiddenField(specPath.child('clusterIPs'), 'may not be set for ExternalName services'));
      if (spec.ipFamilies?.length) errs.push(forbiddenField(specPath.child('ipFamilies'), 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy) errs.push(forbiddenField(specPath.child('ipFamilyPolicy'), 'may not be set for ExternalName services'));
      // The CNAME may end in a dot to mark it fully qualified.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname) errs.push(...isDNS1123Subdomain(cname).map((m) => invalidValue(specPath.child('externalName'), cname, m)));
      else errs.push(required(specPath.child('externalName')));
      break;
    }
  }
  const names = new Set<string>();
  const ports = spec.ports ?? [];
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, specPath.child('ports').index(i))));
  if (spec.selector) errs.push(...validateLabels(spec.selector, specPath.child('selector')));
  if (!spec.sessionAffinity) errs.push(required(specPath.child('sessionAffinity')));
  else if (!supportedSessionAffinity.includes(spec.sessionAffinity)) errs.push(notSupported(specPath.child('sessionAffinity'), spec.sessionAffinity, supportedSessionAffinity));
  const cfgPath = specPath.child('sessionAffinityConfig');
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    if (!cfg) errs.push(required(cfgPath, 'when session affinity type is ClientIP'));
    else if (!cfg.clientIP) errs.push(required(cfgPath.child('clientIP'), 'when session affinity type is ClientIP'));
    else if (cfg.clientIP.timeoutSeconds === undefined || cfg.clientIP.timeoutSeconds === null) {
      errs.push(required(cfgPath.child('clientIP', 'timeoutSeconds'), 'when session affinity type is ClientIP'));
    } else if (cfg.clientIP.timeoutSeconds <= 0 || cfg.clientIP.timeoutSeconds > MaxClientIPServiceAffinitySeconds) {
      errs.push(invalidValue(cfgPath.child('clientIP', 'timeoutSeconds'), cfg.clientIP.timeoutSeconds, `must be greater than 0 and less than ${MaxClientIPServiceAffinitySeconds}`));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(forbiddenField(cfgPath, 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPsRelatedFields(svc));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = specPath.child('externalIPs').index(i);
    const e = validateIP(ip, p);
    errs.push(...(e.length ? e : validateNonSpecialIP(ip, p)));
  });
  if (!spec.type) errs.push(required(specPath.child('type')));
  else if (!supportedServiceTypes.includes(spec.type)) errs.push(notSupported(specPath.child('type'), spec.type, supportedServiceTypes));
  if (spec.type === ServiceType.ClusterIP) {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbiddenField(specPath.child('ports').index(i).child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(specPath.child('ports').index(i).child('nodePort'), p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key)) errs.push(duplicate(specPath.child('ports').index(i), { protocol: p.protocol, port: p.port }));
    portKeys.add(key);
  });
  if (spec.loadBalancerSourceRanges?.length) {
    // Kubernetes reports this field with a capital L; kept so messages match.
    const p = specPath.child('LoadBalancerSourceRanges');
    if (spec.type !== ServiceType.LoadBalancer) errs.push(forbiddenField(p, "may only be used when `type` is 'LoadBalancer'"));
    spec.loadBalancerSourceRanges.forEach((r, i) => errs.push(...validateCIDR(r.trim(), p.index(i))));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && spec.type !== ServiceType.LoadBalancer) {
    errs.push(forbiddenField(specPath.child('allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (spec.type === ServiceType.LoadBalancer && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errs.push(required(new Path('allocateLoadBalancerNodePorts')));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (spec.type !== ServiceType.LoadBalancer) errs.push(forbiddenField(specPath.child('loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"));
    else errs.push(...validateQualifiedName(spec.loadBalancerClass, specPath.child('loadBalancerClass')));
  }
  if (!externallyAccessible(svc)) {
    if (spec.externalTrafficPolicy) {
      errs.push(invalidValue(specPath.child('externalTrafficPolicy'), spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    }
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required(specPath.child('externalTrafficPolicy')));
  } else if (!supportedTrafficPolicies.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported(specPath.child('externalTrafficPolicy'), spec.externalTrafficPolicy, supportedTrafficPolicies));
  }
  // A missing healthCheckNodePort is allocated by the registry after validation, so only a stray one is an error here.
  if (!needsHealthCheckNodePort(svc) && spec.healthCheckNodePort) {
    errs.push(invalidValue(specPath.child('healthCheckNodePort'), spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (needsHealthCheckNodePort(svc) && spec.healthCheckNodePort) {
    errs.push(...isValidPortNum(spec.healthCheckNodePort).map((m) => invalidValue(specPath.child('healthCheckNodePort'), spec.healthCheckNodePort, m)));
  }
  if (!spec.internalTrafficPolicy) {
    if ([ServiceType.NodePort, ServiceType.LoadBalancer, ServiceType.ClusterIP].includes(spec.type as 'ClusterIP')) errs.push(required(specPath.child('internalTrafficPolicy')));
  } else if (!supportedTrafficPolicies.includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported(specPath.child('internalTrafficPolicy'), spec.internalTrafficPolicy, supportedTrafficPolicies));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported(specPath.child('trafficDistribution'), spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

/** validateServiceUpdate is the update half of ValidateServiceUpdate: allocated values stay put. */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const prev = old.spec ?? {};
  const ipsPath = specPath.child('clusterIPs');
  const famPath = specPath.child('ipFamilies');
  const external = spec.type === ServiceType.ExternalName || prev.type === ServiceType.ExternalName;
  const newIPs = spec.clusterIPs ?? [];
  const oldIPs = prev.clusterIPs ?? [];
  if (!external && !(isHeadlessService(old) && isHeadlessService(svc))) {
    if (oldIPs.length === newIPs.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== newIPs[i]) errs.push(invalidValue(ipsPath.index(i), newIPs, 'may not change once set'));
      });
    } else if (oldIPs.length > newIPs.length) {
      if (!newIPs.length) errs.push(invalidValue(ipsPath.index(0), newIPs, 'primary clusterIP can not be unset'));
      if (oldIPs.length && newIPs.length && newIPs[0] !== oldIPs[0]) errs.push(invalidValue(ipsPath.index(0), newIPs, 'may not change once set'));
      if (newIPs.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalidValue(specPath.child('ipFamilyPolicy'), spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
      }
    } else if (oldIPs.length && newIPs[0] !== oldIPs[0]) {
      errs.push(invalidValue(ipsPath.index(0), newIPs, 'may not change once set'));
    }
  }
  if (!external && isHeadlessService(old) === isHeadlessService(svc) && !isHeadlessService(svc)) {
    const nf = spec.ipFamilies ?? [];
    const of = prev.ipFamilies ?? [];
    if (of.length === nf.length) {
      of.forEach((f, i) => {
        if (f !== nf[i]) errs.push(invalidValue(famPath.index(0), nf, 'may not change once set'));
      });
    } else if (of.length > nf.length) {
      if (!newIPs.length) errs.push(invalidValue(famPath.index(0), nf, 'primary ipFamily can not be unset'));
      if (nf.length && nf[0] !== of[0]) errs.push(invalidValue(famPath.index(0), newIPs, 'may not change once set'));
      if (nf.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalidValue(specPath.child('ipFamilyPolicy'), spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
      }
    } else if (of.length && nf.length && nf[0] !== of[0]) {
      errs.push(invalidValue(famPath.index(0), newIPs, 'may not change once set'));
    }
  }
  if (prev.type === ServiceType.LoadBalancer && spec.type === ServiceType.LoadBalancer && (prev.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null)) {
    errs.push(invalidValue(specPath.child('loadBalancerClass'), spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && spec.healthCheckNodePort !== prev.healthCheckNodePort) {
    errs.push(forbiddenField(specPath.child('healthCheckNodePort'), fieldImmutableErrorMsg));
  }
  return errs;
}

/** validateServiceStatusUpdate is ValidateLoadBalancerStatus for status writes. */
export function validateServiceStatusUpdate(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const path = new Path('status').child('loadBalancer', 'ingress');
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (svc.spec?.type !== ServiceType.LoadBalancer && ingress.length) return [forbiddenField(path, "may only be used when `spec.type` is 'LoadBalancer'")];
  ingress.forEach((ing, i) => {
    const p = path.index(i);
    if (ing.ip) errs.push(...validateIP(ing.ip, p.child('ip')));
    if (ing.ipMode !== undefined && ing.ipMode !== null) {
      if (!ing.ip) errs.push(forbiddenField(p.child('ipMode'), 'may not be specified when `ip` is not set'));
      else if (!['Proxy', 'VIP'].includes(ing.ipMode)) errs.push(notSupported(p.child('ipMode'), ing.ipMode, ['Proxy', 'VIP']));
    } else if (ing.ip) {
      errs.push(required(p.child('ipMode'), 'must be specified when `ip` is set'));
    }
    if (ing.hostname) {
      errs.push(...isDNS1123Subdomain(ing.hostname).map((m) => invalidValue(p.child('hostname'), ing.hostname, m)));
      if (parseIPSloppy(ing.hostname)) errs.push(invalidValue(p.child('hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Table

/** serviceExternalIP is the EXTERNAL-IP cell: external IPs, load balancer addresses, <pending> or <none>. */
export function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type) {
    case ServiceType.ClusterIP:
    case ServiceType.NodePort:
      return external.length ? external.join(',') : '<none>';
    case ServiceType.LoadBalancer: {
      // The server always renders the wide form, so load balancer addresses are not clipped.
      const lb = [...new Set((svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((s) => s))].sort();
      if (external.length) return [...lb, ...external].join(',');
      return lb.length ? lb.join(',') : '<pending>';
    }
    case ServiceType.ExternalName:
      return spec.externalName ?? '';
  }
  return '<unknown>';
}

/** servicePorts is the PORT(S) cell: `80/TCP`, `80:30080/TCP`, comma separated, or <none>. */
export function servicePorts(svc: Service): string {
  const s = (svc.spec?.ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',');
  return s || '<none>';
}

const serviceColumns: PrinterColumn<Service>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (s) => s.metadata.name },
  { name: 'Type', type: 'string', cell: (s) => s.spec?.type ?? '' },
  { name: 'Cluster-IP', type: 'string', cell: (s) => s.spec?.clusterIPs?.[0] ?? '<none>' },
  { name: 'External-IP', type: 'string', cell: (s) => serviceExternalIP(s) },
  { name: 'Port(s)', type: 'string', cell: (s) => servicePorts(s) },
  { name: 'Age', type: 'string', cell: (s, now) => age(s.metadata.creationTimestamp, now) },
  { name: 'Selector', type: 'string', priority: 1, cell: (s) => formatLabels(s.spec?.selector) },
];

// ---------------------------------------------------------------------------------------------
// Declaration

export const services = defineResource<Service>({
  returnDeletedObject: true,
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  printerColumns: serviceColumns,
  fieldSelectors: {
    'spec.clusterIP': (s) => s.spec?.clusterIP ?? '',
    'spec.type': (s) => s.spec?.type ?? '',
  },
  defaults: defaultService,
  prepareForCreate,
  prepareForUpdate,
  prepareForStatusUpdate,
  validate: validateService,
  validateUpdate: validateServiceUpdate,
  validateStatusUpdate: validateServiceStatusUpdate,
  warningsOnCreate: serviceWarnings,
  warningsOnUpdate: serviceWarnings,
  allowCreateOnUpdate: true,
});
