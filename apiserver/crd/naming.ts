// The naming controller's decision (apiextensions-apiserver pkg/controller/status): which of a
// CRD's requested names it may be served under, given the names other CRDs of the same group
// already hold. A name is taken from another CRD's accepted names, never from a request; a CRD
// whose names conflict keeps the names it had and gets NamesAccepted=False.

import { deepEqualJSON } from '../../lib/api/apiextensions/schema.js';
import { findCRDCondition } from '../../lib/api/apiextensions/helpers.js';
import { ConditionType, type CustomResourceDefinition, type CustomResourceDefinitionCondition, type CustomResourceDefinitionNames } from '../../lib/api/apiextensions/types.js';

/** NamingResult is what the naming controller writes into a CRD's status. */
export interface NamingResult {
  acceptedNames: CustomResourceDefinitionNames;
  namesAccepted: CustomResourceDefinitionCondition;
  established: CustomResourceDefinitionCondition;
}

function usedNames(crd: CustomResourceDefinition, others: readonly CustomResourceDefinition[]): { resources: Set<string>; kinds: Set<string> } {
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const o of others) {
    if (o.spec?.group !== crd.spec.group) continue;
    // The CRD itself counts too: its accepted names are its own to keep.
    const a = o.status?.acceptedNames;
    if (!a) continue;
    for (const n of [a.plural, a.singular ?? '', ...(a.shortNames ?? [])]) resources.add(n);
    kinds.add(a.kind);
    kinds.add(a.listKind ?? '');
  }
  return { resources, kinds };
}

function conflict(requested: string | undefined, accepted: string | undefined, used: Set<string>): string | undefined {
  const r = requested ?? '';
  if (r === (accepted ?? '')) return undefined;
  return used.has(r) ? `"${r}" is already in use` : undefined;
}

/**
 * calculateNames is calculateNamesAndConditions: the names the CRD may use now and its
 * NamesAccepted and Established conditions. `all` is every CRD (this one included).
 */
export function calculateNames(crd: CustomResourceDefinition, all: readonly CustomResourceDefinition[]): NamingResult {
  const { resources, kinds } = usedNames(crd, all);
  const requested = crd.spec.names;
  const accepted: CustomResourceDefinitionNames = crd.status?.acceptedNames ?? { plural: '', kind: '' };
  const next: CustomResourceDefinitionNames = { ...accepted };
  let cond: CustomResourceDefinitionCondition = { type: ConditionType.NamesAccepted, status: 'Unknown' };
  const fail = (reason: string, message: string) => {
    cond = { type: ConditionType.NamesAccepted, status: 'False', reason, message };
  };

  let err = conflict(requested.plural, accepted.plural, resources);
  if (err) fail('PluralConflict', err);
  else next.plural = requested.plural;
  err = conflict(requested.singular, accepted.singular, resources);
  if (err) fail('SingularConflict', err);
  else next.singular = requested.singular;
  if (!deepEqualJSON(requested.shortNames ?? null, accepted.shortNames ?? null)) {
    const have = new Set(accepted.shortNames ?? []);
    const errs = (requested.shortNames ?? []).filter((s) => !have.has(s)).map((s) => conflict(s, '', resources)).filter((e): e is string => !!e);
    if (errs.length) fail('ShortNamesConflict', errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
    else next.shortNames = requested.shortNames;
  }
  err = conflict(requested.kind, accepted.kind, kinds);
  if (err) fail('KindConflict', err);
  else next.kind = requested.kind;
  err = conflict(requested.listKind, accepted.listKind, kinds);
  if (err) fail('ListKindConflict', err);
  else next.listKind = requested.listKind;
  next.categories = requested.categories;
  if (next.shortNames === undefined) delete next.shortNames;
  if (next.categories === undefined) delete next.categories;

  if (cond.status === 'Unknown') cond = { type: ConditionType.NamesAccepted, status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };

  let established: CustomResourceDefinitionCondition = findCRDCondition(crd, ConditionType.Established) ?? {
    type: ConditionType.Established,
    status: 'False',
    reason: 'NotAccepted',
    message: 'not all names are accepted',
  };
  if (established.status !== 'True' && cond.status === 'True') {
    established = { type: ConditionType.Established, status: 'False', reason: 'Installing', message: 'the initial names have been accepted' };
  }
  return { acceptedNames: next, namesAccepted: cond, established };
}
