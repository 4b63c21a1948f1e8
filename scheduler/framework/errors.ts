// What a failed scheduling cycle reports (framework.Diagnosis and framework.FitError): each
// rejected node's status, and kube's "0/3 nodes are available: …" message built from them.

import type { Pod } from '../../lib/api/core/pod.js';
import type { NodeInfo } from './nodeinfo.js';
import type { Snapshot } from './snapshot.js';
import { Code, type Status, unresolvable } from './status.js';

/**
 * NodeToStatus is framework.NodeToStatus: the rejecting status of each node that did not fit,
 * plus the status of nodes not in the map (set when PreFilter rejected the pod for all nodes).
 */
export class NodeToStatus {
  private readonly map = new Map<string, Status>();
  /** absentNodesStatus is the status of every node not in the map; UnschedulableAndUnresolvable by default (not evaluated). */
  absentNodesStatus: Status = unresolvable();

  /** set records a node's status. */
  set(name: string, s: Status): void {
    this.map.set(name, s);
  }

  /** get is the node's status, or absentNodesStatus. */
  get(name: string): Status {
    return this.map.get(name) ?? this.absentNodesStatus;
  }

  /** has: a status is recorded for the node itself. */
  has(name: string): boolean {
    return this.map.has(name);
  }

  /** len is the number of nodes with their own status. */
  get len(): number {
    return this.map.size;
  }

  /** entries iterates the recorded statuses. */
  entries(): IterableIterator<[string, Status]> {
    return this.map.entries();
  }

  /** nodesForStatusCode lists the snapshot's nodes whose status has the code (preemption looks for Unschedulable ones). */
  nodesForStatusCode(snapshot: Snapshot, code: Code): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const ni of snapshot.nodeInfoList) if (this.get(ni.name).code === code) out.push(ni);
    return out;
  }
}

/** Diagnosis explains a failed cycle (framework.Diagnosis); the caller sets postFilterMsg after PostFilter. */
export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** unschedulablePlugins are the plugins that rejected the pod on some node (the queue requeues on their events). */
  unschedulablePlugins: Set<string>;
  pendingPlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
  evaluatedNodes: number;
}

/** newDiagnosis is an empty Diagnosis. */
export function newDiagnosis(): Diagnosis {
  return { nodeToStatus: new NodeToStatus(), unschedulablePlugins: new Set(), pendingPlugins: new Set(), preFilterMsg: '', postFilterMsg: '', evaluatedNodes: 0 };
}

/** NoNodeAvailableMsg is the FitError message's prefix format. */
export const NoNodeAvailableMsg = '0/%v nodes are available';

/**
 * FitError is framework.FitError: no node fits the pod. Its message is kube's, built on demand so
 * that a postFilterMsg set after PostFilter shows up:
 * `0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: …`
 */
export class FitError extends Error {
  constructor(
    readonly pod: Pod,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super();
    this.name = 'FitError';
    Object.defineProperty(this, 'message', { get: () => this.error(), enumerable: false, configurable: true });
  }

  /** error is FitError.Error(): the counted reasons, sorted as strings, between the prefix and the PostFilter message. */
  error(): string {
    let msg = `0/${this.numAllNodes} nodes are available:`;
    const d = this.diagnosis;
    if (d.preFilterMsg !== '') {
      msg += ` ${d.preFilterMsg}.`;
    } else {
      const counts = new Map<string, number>();
      for (const [, s] of d.nodeToStatus.entries()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      const parts: string[] = [];
      for (const [r, n] of counts) parts.push(`${n} ${r}`);
      // sort.Strings: byte order of the whole "count reason" text.
      parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
    }
    if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}.`;
    return msg;
  }
}

/** NoNodesAvailableError is thrown when the snapshot has no nodes at all. */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods');
    this.name = 'NoNodesAvailableError';
  }
}
