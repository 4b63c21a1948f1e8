// coordination.k8s.io/v1 Lease: what leader election and node heartbeats write. Strategy
// (pkg/registry/coordination/lease/strategy.go), validation (pkg/apis/coordination/validation)
// and the table kube-apiserver prints for it.

import { type FieldError, Path, forbiddenField, invalidValue, notSupported } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isQualifiedName, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** acquireTime and renewTime are metav1.MicroTime (RFC3339 with microseconds). */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  /** strategy and preferredHolder belong to the CoordinatedLeaderElection alpha (off in v1.32). */
  strategy?: string;
  preferredHolder?: string;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

const validLeaseStrategies = ['OldestEmulationVersion'];

/** validateLease is ValidateLease: metadata (DNS subdomain name) and the spec. */
export function validateLease(lease: Lease): FieldError[] {
  return [...validateObjectMeta(lease.metadata, true, nameIsDNSSubdomain), ...validateLeaseSpec(lease.spec ?? {}, new Path('spec'))];
}

/** validateLeaseSpec is ValidateLeaseSpec. */
export function validateLeaseSpec(spec: LeaseSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds !== null && spec.leaseDurationSeconds <= 0) {
    errs.push(invalidValue(path.child('leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions !== null && spec.leaseTransitions < 0) {
    errs.push(invalidValue(path.child('leaseTransitions'), spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  if (spec.strategy !== undefined && spec.strategy !== null) {
    errs.push(...validateCoordinatedLeaseStrategy(spec.strategy, path.child('strategy')));
  }
  if (spec.preferredHolder && !spec.strategy) {
    errs.push(forbiddenField(path.child('preferredHolder'), 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

/**
 * validateCoordinatedLeaseStrategy is ValidateCoordinatedLeaseStrategy: a Kubernetes strategy name,
 * or a qualified `prefix/name`. Its errors sit at `spec.strategy.strategy`, as in Kubernetes.
 */
function validateCoordinatedLeaseStrategy(strategy: string, path: Path): FieldError[] {
  const p = path.child('strategy');
  if (!strategy.includes('/')) {
    return validLeaseStrategies.includes(strategy) ? [] : [notSupported(p, strategy, validLeaseStrategies)];
  }
  return isQualifiedName(strategy).map((m) => invalidValue(p, strategy, m));
}

/**
 * dropCoordinatedLeaderElectionFields clears spec.strategy and spec.preferredHolder while the
 * CoordinatedLeaderElection feature gate is off (its v1.32 default), keeping values an existing
 * Lease already has.
 */
function dropCoordinatedLeaderElectionFields(lease: Lease, old: Lease | undefined): void {
  if (!lease.spec) return;
  if (old?.spec?.strategy === undefined) delete lease.spec.strategy;
  if (old?.spec?.preferredHolder === undefined) delete lease.spec.preferredHolder;
}

const leaseColumns: PrinterColumn<Lease>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (l) => l.metadata.name },
  { name: 'Holder', type: 'string', cell: (l) => l.spec?.holderIdentity ?? '' },
  { name: 'Age', type: 'string', cell: (l, now) => age(l.metadata.creationTimestamp, now) },
];

export const leases = defineResource<Lease>({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  printerColumns: leaseColumns,
  prepareForCreate(lease) {
    dropCoordinatedLeaderElectionFields(lease, undefined);
  },
  prepareForUpdate(lease, old) {
    dropCoordinatedLeaderElectionFields(lease, old);
  },
  validate: validateLease,
  // As in Kubernetes, a PUT to a Lease that does not exist yet creates it.
  allowCreateOnUpdate: true,
});
