// Service ClusterIP and NodePort allocation. Each allocated IP or port is one etcd key owned by the
// Service's uid (`/registry/skiff/serviceips/<ip>`, `/registry/skiff/servicenodeports/<port>`),
// created only if absent (Storage.create): two Services can never hold the same one, and the
// reservation survives apiserver restarts. Allocation is idempotent per uid, so the registry's
// retry loops may call it again safely.

import type { KubeObject } from '../../lib/api/meta.js';
import { invalid, internalError } from '../../lib/machinery/status.js';
import { invalidValue, type FieldError } from '../../lib/machinery/field-errors.js';
import { type IPv4Cidr, hostAt, hostIndexOf, ipv4ToUint32, parseIPv4Cidr } from '../../lib/net/ip.js';
import { ConflictError, KeyExistsError, KeyNotFoundError, type Storage } from '../storage/interface.js';
import type { RegistryHooks, RequestContext } from './store.js';

/** CIDR is the service cluster IP range (--service-cluster-ip-range) and the text it was given as. */
export interface CIDR extends IPv4Cidr {
  text: string;
}

/** parseCIDR reads --service-cluster-ip-range: an IPv4 CIDR from /8 to /30. */
export function parseCIDR(text: string): CIDR {
  let cidr: IPv4Cidr;
  try {
    cidr = parseIPv4Cidr(text);
  } catch {
    throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  }
  if (cidr.prefix < 8 || cidr.prefix > 30) throw new Error(`invalid or unsupported CIDR ${JSON.stringify(text)}`);
  return { ...cidr, text };
}

/** firstServiceIP is the address the `kubernetes` Service gets (10.96.0.1 for 10.96.0.0/12). */
export function firstServiceIP(cidr: CIDR): string {
  return hostAt(cidr, 0)!;
}

interface ServiceLike extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: { name?: string; port?: number; protocol?: string; nodePort?: number }[];
    externalTrafficPolicy?: string;
    healthCheckNodePort?: number;
  };
}

const ipPrefix = '/registry/skiff/serviceips/';
const portPrefix = '/registry/skiff/servicenodeports/';

function needsClusterIP(svc: ServiceLike): boolean {
  const t = svc.spec?.type ?? 'ClusterIP';
  return t !== 'ExternalName' && svc.spec?.clusterIP !== 'None';
}

function needsNodePorts(svc: ServiceLike): boolean {
  const t = svc.spec?.type;
  return t === 'NodePort' || t === 'LoadBalancer';
}

/** needsHealthCheckNodePort: a LoadBalancer with externalTrafficPolicy Local gets a health check port from the node port range. */
function needsHealthCheckNodePort(svc: ServiceLike): boolean {
  return svc.spec?.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';
}

/** heldPorts are the node ports a Service holds: its ports' nodePorts and its healthCheckNodePort. */
function heldPorts(svc: ServiceLike): Set<number> {
  const out = new Set((svc.spec?.ports ?? []).map((p) => p.nodePort).filter((n): n is number => !!n));
  if (svc.spec?.healthCheckNodePort) out.add(svc.spec.healthCheckNodePort);
  return out;
}

export class ServiceAllocator implements RegistryHooks {
  private readonly size: number;

  constructor(
    private readonly storage: Storage,
    readonly cidr: CIDR,
    readonly portRange: { min: number; max: number },
  ) {
    this.size = cidr.size;
  }

  /**
   * claim reserves key for owner in one transaction: 'new' when this call created it, 'held' when
   * owner already had it (a retry), 'taken' when someone else holds it.
   */
  private async claim(key: string, owner: string): Promise<'new' | 'held' | 'taken'> {
    for (;;) {
      try {
        await this.storage.create(key, { owner } as unknown as KubeObject);
        return 'new';
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err;
      }
      const held = await this.storage.get(key);
      // Released between the create and the read: claim it again.
      if (held) return isOwnedBy(held, owner) ? 'held' : 'taken';
    }
  }

  private async release(key: string, owner: string): Promise<void> {
    const held = await this.storage.get(key);
    if (!held || !isOwnedBy(held, owner)) return;
    try {
      // Only the reservation as read: one changed or gone meanwhile is not ours to remove.
      await this.storage.delete(key, { resourceVersion: held.metadata.resourceVersion });
    } catch (err) {
      if (!(err instanceof KeyNotFoundError || err instanceof ConflictError)) throw err;
    }
  }

  private invalid(svc: ServiceLike, errs: FieldError[]): Error {
    return invalid({ group: '', kind: 'Service' }, svc.metadata.name ?? '', errs);
  }

  async allocateClusterIP(svc: ServiceLike): Promise<void> {
    const owner = svc.metadata.uid!;
    const spec = svc.spec!;
    const requested = spec.clusterIP || spec.clusterIPs?.[0];
    if (requested) {
      if (ipv4ToUint32(requested) === undefined) return; // the kind's validation reports malformed IPs
      if (hostIndexOf(this.cidr, requested) === undefined) {
        throw this.invalid(svc, [invalidValue('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`)]);
      }
      if ((await this.claim(ipPrefix + requested, owner)) === 'taken') {
        throw this.invalid(svc, [invalidValue('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`)]);
      }
      spec.clusterIP = requested;
      spec.clusterIPs = [requested];
      return;
    }
    const usable = this.size - 2;
    const start = Math.floor(Math.random() * usable);
    // Random start, then probe forward: a full scan in the worst case, so "full" is reported honestly.
    for (let i = 0; i < usable; i++) {
      const ip = hostAt(this.cidr, (start + i) % usable)!;
      // The first address is reserved for the kubernetes Service.
      if (ip === firstServiceIP(this.cidr) && !(svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes')) continue;
      if ((await this.claim(ipPrefix + ip, owner)) !== 'taken') {
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
        return;
      }
      if (i > 4096) break;
    }
    throw internalError(new Error(`failed to allocate a serviceIP: range is full`));
  }

  /**
   * allocateNodePorts claims every port's nodePort (given ones checked, missing ones picked at
   * random). On failure it releases only what this call newly claimed: ports the stored Service
   * already held stay its own.
   */
  async allocateNodePorts(svc: ServiceLike): Promise<void> {
    const owner = svc.metadata.uid!;
    const ports = svc.spec?.ports ?? [];
    const claimedNow: number[] = [];
    const claim = async (port: number): Promise<boolean> => {
      const r = await this.claim(portPrefix + port, owner);
      if (r === 'new') claimedNow.push(port);
      return r !== 'taken';
    };
    try {
      const errs: FieldError[] = [];
      for (const [i, p] of ports.entries()) {
        if (!p.nodePort) continue;
        if (p.nodePort < this.portRange.min || p.nodePort > this.portRange.max) {
          errs.push(invalidValue(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${this.portRange.min}-${this.portRange.max}`));
        } else if (!(await claim(p.nodePort))) {
          errs.push(invalidValue(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'));
        }
      }
      if (errs.length) throw this.invalid(svc, errs);
      const span = this.portRange.max - this.portRange.min + 1;
      for (const p of ports) {
        if (p.nodePort) continue;
        const start = Math.floor(Math.random() * span);
        let got = 0;
        for (let i = 0; i < span; i++) {
          const port = this.portRange.min + ((start + i) % span);
          if (ports.some((q) => q.nodePort === port)) continue;
          if (await claim(port)) {
            got = port;
            break;
          }
        }
        if (!got) throw internalError(new Error('failed to allocate a nodePort: range is full'));
        p.nodePort = got;
      }
      if (needsHealthCheckNodePort(svc)) await this.allocateHealthCheckNodePort(svc, claim);
    } catch (err) {
      for (const port of claimedNow) await this.release(portPrefix + port, owner);
      throw err;
    }
  }

  /**
   * allocateHealthCheckNodePort claims spec.healthCheckNodePort, or picks a free one, from the
   * node port range; as kube-apiserver, a failure is an internal error.
   */
  private async allocateHealthCheckNodePort(svc: ServiceLike, claim: (port: number) => Promise<boolean>): Promise<void> {
    const spec = svc.spec!;
    const requested = spec.healthCheckNodePort;
    if (requested) {
      if (requested < this.portRange.min || requested > this.portRange.max) {
        throw internalError(new Error(`failed to allocate requested HealthCheck NodePort ${requested}: provided port is not in the valid range. The range of valid ports is ${this.portRange.min}-${this.portRange.max}`));
      }
      if (!(await claim(requested))) throw internalError(new Error(`failed to allocate requested HealthCheck NodePort ${requested}: provided port is already allocated`));
      return;
    }
    const span = this.portRange.max - this.portRange.min + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = this.portRange.min + ((start + i) % span);
      if ((spec.ports ?? []).some((q) => q.nodePort === port)) continue;
      if (await claim(port)) {
        spec.healthCheckNodePort = port;
        return;
      }
    }
    throw internalError(new Error('failed to allocate a HealthCheck NodePort 0: range is full'));
  }

  private async releaseNodePorts(svc: ServiceLike, keep: Set<number>): Promise<void> {
    for (const port of heldPorts(svc)) if (!keep.has(port)) await this.release(portPrefix + port, svc.metadata.uid!);
  }

  private async releaseClusterIP(svc: ServiceLike): Promise<void> {
    const ip = svc.spec?.clusterIP;
    if (ip && ip !== 'None') await this.release(ipPrefix + ip, svc.metadata.uid!);
  }

  async beforeCreate(obj: KubeObject, _ctx: RequestContext): Promise<void> {
    const svc = obj as ServiceLike;
    svc.spec = svc.spec ?? {};
    if (needsClusterIP(svc)) await this.allocateClusterIP(svc);
    else if (svc.spec.clusterIP === 'None') svc.spec.clusterIPs = ['None'];
    if (needsNodePorts(svc)) {
      try {
        await this.allocateNodePorts(svc);
      } catch (err) {
        await this.releaseClusterIP(svc);
        throw err;
      }
    }
  }

  async afterCreateFailed(obj: KubeObject): Promise<void> {
    await this.releaseAll(obj as ServiceLike);
  }

  async beforeUpdate(obj: KubeObject, old: KubeObject): Promise<void> {
    const svc = obj as ServiceLike;
    const prev = old as ServiceLike;
    svc.spec = svc.spec ?? {};
    if (needsClusterIP(svc) && !needsClusterIP(prev)) await this.allocateClusterIP(svc);
    if (!needsNodePorts(svc)) {
      for (const p of svc.spec.ports ?? []) delete p.nodePort;
      delete svc.spec.healthCheckNodePort;
      return;
    }
    // Ports that kept their number stay allocated; a port that lost its nodePort keeps the old one.
    for (const p of svc.spec.ports ?? []) {
      if (p.nodePort) continue;
      const same = (prev.spec?.ports ?? []).find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (same?.nodePort) p.nodePort = same.nodePort;
    }
    await this.allocateNodePorts(svc);
  }

  async afterUpdateFailed(obj: KubeObject, old: KubeObject): Promise<void> {
    // Release what the attempted update claimed and the old object does not hold.
    const svc = obj as ServiceLike;
    const prev = old as ServiceLike;
    await this.releaseNodePorts(svc, heldPorts(prev));
    if (svc.spec?.clusterIP && svc.spec.clusterIP !== prev.spec?.clusterIP) await this.releaseClusterIP(svc);
  }

  async afterUpdate(obj: KubeObject, old: KubeObject): Promise<void> {
    const svc = obj as ServiceLike;
    const prev = old as ServiceLike;
    await this.releaseNodePorts(prev, heldPorts(svc));
    if (prev.spec?.clusterIP && prev.spec.clusterIP !== svc.spec?.clusterIP) await this.releaseClusterIP(prev);
  }

  async afterDelete(obj: KubeObject): Promise<void> {
    await this.releaseAll(obj as ServiceLike);
  }

  private async releaseAll(svc: ServiceLike): Promise<void> {
    await this.releaseNodePorts(svc, new Set());
    await this.releaseClusterIP(svc);
  }
}

/** isOwnedBy tells whether a reservation (stored as `{"owner": uid}`) names owner. */
function isOwnedBy(held: KubeObject, owner: string): boolean {
  return (held as unknown as { owner?: unknown }).owner === owner;
}
