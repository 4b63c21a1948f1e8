// Node selectors and required node affinity as every process reads them: the scheduler's
// NodeAffinity plugin and the DaemonSet controller, which decides per node whether a daemon pod
// belongs there (k8s.io/component-helpers/scheduling/corev1/nodeaffinity). Node selectors are
// compiled once per pod into label requirements so that matching a node is a loop over a small array.

import type { Node } from '../api/core/node.js';
import type { Pod } from '../api/core/pod.js';
import type { NodeSelectorRequirement, NodeSelectorTerm } from '../api/core/types.js';
import { type LabelSelectorExpr, type Operator, type Requirement, matches, requirementMatches, selectorFromSet } from '../machinery/labels.js';

const nodeSelectorOperators: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' };

/** compileRequirement turns a NodeSelectorRequirement into a label Requirement; undefined when invalid (the term then never matches). */
function compileRequirement(r: NodeSelectorRequirement): Requirement | undefined {
  const op = Object.prototype.hasOwnProperty.call(nodeSelectorOperators, r.operator) ? nodeSelectorOperators[r.operator] : undefined;
  if (!op) return undefined;
  const values = r.values ?? [];
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0) return undefined;
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) return undefined;
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1 || !/^[+-]?\d+$/.test(values[0])) return undefined;
      break;
  }
  return { key: r.key, operator: op, values };
}

/** CompiledTerm is one NodeSelectorTerm, parsed. */
interface CompiledTerm {
  labels: Requirement[];
  fields: Requirement[];
  /** valid is false for an empty term or one with a parse error: it matches no node. */
  valid: boolean;
}

function compileTerm(t: NodeSelectorTerm | undefined): CompiledTerm {
  const exprs = t?.matchExpressions ?? [];
  const fieldExprs = t?.matchFields ?? [];
  if (exprs.length === 0 && fieldExprs.length === 0) return { labels: [], fields: [], valid: false };
  const labels: Requirement[] = [];
  const fields: Requirement[] = [];
  for (const e of exprs) {
    const r = compileRequirement(e);
    if (!r) return { labels: [], fields: [], valid: false };
    labels.push(r);
  }
  for (const e of fieldExprs) {
    // Only metadata.name is a supported node field, with In/NotIn and one value.
    const r = compileRequirement(e);
    if (!r || e.key !== 'metadata.name' || (r.operator !== 'in' && r.operator !== 'notin') || r.values.length !== 1) {
      return { labels: [], fields: [], valid: false };
    }
    fields.push(r);
  }
  return { labels, fields, valid: true };
}

const noLabels: Readonly<Record<string, string>> = Object.freeze({});

function termMatches(t: CompiledTerm, node: Node): boolean {
  if (!t.valid) return false;
  const labels = node.metadata.labels ?? noLabels;
  for (let i = 0; i < t.labels.length; i++) if (!requirementMatches(t.labels[i], labels)) return false;
  if (t.fields.length > 0) {
    const fields = { 'metadata.name': node.metadata.name ?? '' };
    for (let i = 0; i < t.fields.length; i++) if (!requirementMatches(t.fields[i], fields)) return false;
  }
  return true;
}

/** NodeSelector is a compiled v1.NodeSelector: its terms are ORed. */
export class NodeSelector {
  private readonly terms: CompiledTerm[];

  constructor(terms: readonly NodeSelectorTerm[] | undefined) {
    this.terms = (terms ?? []).map(compileTerm);
  }

  /** match: some term matches the node (an invalid term never does). */
  match(node: Node): boolean {
    for (let i = 0; i < this.terms.length; i++) if (termMatches(this.terms[i], node)) return true;
    return false;
  }
}

/**
 * RequiredNodeAffinity is nodeaffinity.RequiredNodeAffinity: the pod's spec.nodeSelector AND its
 * required node affinity terms.
 */
export class RequiredNodeAffinity {
  private readonly labelSelector: LabelSelectorExpr | undefined;
  private readonly nodeSelector: NodeSelector | undefined;

  constructor(pod: Pod) {
    const sel = pod.spec?.nodeSelector;
    this.labelSelector = sel && Object.keys(sel).length > 0 ? selectorFromSet(sel) : undefined;
    const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.nodeSelector = req ? new NodeSelector(req.nodeSelectorTerms) : undefined;
  }

  /** isEmpty: the pod constrains nodes neither by nodeSelector nor by required affinity. */
  get isEmpty(): boolean {
    return !this.labelSelector && !this.nodeSelector;
  }

  /** match: the node satisfies both the nodeSelector and the required affinity. */
  match(node: Node): boolean {
    if (this.labelSelector && !matches(this.labelSelector, node.metadata.labels)) return false;
    if (this.nodeSelector && !this.nodeSelector.match(node)) return false;
    return true;
  }
}

/** PreferredSchedulingTerms is nodeaffinity.PreferredSchedulingTerms: weighted terms whose weights add up when they match. */
export class PreferredSchedulingTerms {
  private readonly terms: { weight: number; term: CompiledTerm }[];

  constructor(terms: readonly { weight: number; preference: NodeSelectorTerm }[] | undefined) {
    this.terms = (terms ?? []).filter((t) => t.weight !== 0).map((t) => ({ weight: t.weight, term: compileTerm(t.preference) }));
  }

  get length(): number {
    return this.terms.length;
  }

  /** score is the sum of the weights of matching terms. */
  score(node: Node): number {
    let s = 0;
    for (let i = 0; i < this.terms.length; i++) if (termMatches(this.terms[i].term, node)) s += this.terms[i].weight;
    return s;
  }
}
