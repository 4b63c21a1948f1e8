// Label selectors as k8s.io/apimachinery/pkg/labels and metav1's LabelSelector helpers do them:
// the string grammar of `?labelSelector=` and `kubectl -l`, matching, the canonical String() form,
// conversion of the structured metav1.LabelSelector, and its validation. Error texts are
// Kubernetes' own, because kube-apiserver hands them to clients verbatim in a 400 Status.
//
// A selector is parsed once and then matched against every object of a list or watch, so matching
// is plain loops over a small array of requirements.

import { goQuote } from './goquote.js';
import type { LabelSelector, LabelSelectorRequirement } from '../api/meta.js';
import { type FieldError, Path, forbiddenField, invalidValue, required } from './field-errors.js';
import { badRequest } from './status.js';
import { isQualifiedName, isValidLabelValue } from './validation.js';

/** Operator is selection.Operator: the relation a Requirement states between a key and its values. */
export type Operator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** Requirement is one term of a selector: key, operator and values (empty for exists / !). */
export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

/**
 * LabelSelectorExpr is a parsed label selector: the AND of its requirements, sorted by key.
 * `nothing` marks labels.Nothing(), what a nil metav1.LabelSelector converts to: it matches no
 * object at all, whereas an empty requirement list matches every object.
 */
export interface LabelSelectorExpr {
  readonly requirements: readonly Requirement[];
  readonly nothing: boolean;
}

/** Labels is what a selector is matched against: an object's metadata.labels. */
export type Labels = Readonly<Record<string, string>>;

const everythingSelector: LabelSelectorExpr = Object.freeze({ requirements: Object.freeze([]), nothing: false });
const nothingSelector: LabelSelectorExpr = Object.freeze({ requirements: Object.freeze([]), nothing: true });

/** everything is labels.Everything(): the selector that matches every object. */
export function everything(): LabelSelectorExpr {
  return everythingSelector;
}

/** nothing is labels.Nothing(): the selector that matches no object. */
export function nothing(): LabelSelectorExpr {
  return nothingSelector;
}

/**
 * InvalidLabelSelectorError is thrown by labelSelectorAsSelector for a structured selector that
 * cannot become a Selector; its message is the error text Kubernetes produces for the same input.
 */
export class InvalidLabelSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLabelSelectorError';
  }
}

// ---------------------------------------------------------------------------------------------
// Requirements: construction with NewRequirement's checks, matching, String().

const binaryOperators = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'] as const;

// reqError is one field.Invalid error of NewRequirement. The value is kept preformatted because
// Go prints a nil []string as `[]string(nil)`, which FieldError's generic formatter cannot know.
interface ReqError {
  field: string;
  value: string;
  detail: string;
}

export { goQuote };

function goStringSlice(values: readonly string[] | undefined): string {
  if (values === undefined) return '[]string(nil)';
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

/** aggregateMessage joins error texts as utilerrors.NewAggregate does: deduplicated, bracketed when several. */
function aggregateMessage(msgs: string[]): string {
  const unique = [...new Set(msgs)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

function reqErrorText(e: ReqError): string {
  return `${e.field}: Invalid value: ${e.value}: ${e.detail}`;
}

const int64Re = /^[+-]?[0-9]+$/;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** parseInt64 is strconv.ParseInt(s, 10, 64): undefined when s is not a base-10 int64. */
function parseInt64(s: string): bigint | undefined {
  if (!int64Re.test(s)) return undefined;
  const n = BigInt(s);
  return n < int64Min || n > int64Max ? undefined : n;
}

/**
 * newRequirement checks a requirement as labels.NewRequirement does and returns it with the
 * problems found, with NewRequirement's field paths (`key`, `values`, `values[i]`, `values[i][key]`).
 * `values` undefined stands for Go's nil slice (only the structured selector can produce it).
 */
function newRequirement(key: string, operator: Operator, values: readonly string[] | undefined): { req: Requirement; errs: ReqError[] } {
  const errs: ReqError[] = [];
  const vals = values ?? [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push({ field: 'key', value: goQuote(key), detail: keyErrs.join('; ') });
  switch (operator) {
    case 'in':
    case 'notin':
      if (vals.length === 0) errs.push({ field: 'values', value: goStringSlice(values), detail: "for 'in', 'notin' operators, values set can't be empty" });
      break;
    case '=':
    case '==':
    case '!=':
      if (vals.length !== 1) errs.push({ field: 'values', value: goStringSlice(values), detail: 'exact-match compatibility requires one single value' });
      break;
    case 'exists':
    case '!':
      if (vals.length !== 0) errs.push({ field: 'values', value: goStringSlice(values), detail: 'values set must be empty for exists and does not exist' });
      break;
    case 'gt':
    case 'lt':
      if (vals.length !== 1) errs.push({ field: 'values', value: goStringSlice(values), detail: "for 'Gt', 'Lt' operators, exactly one value is required" });
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push({ field: `values[${i}]`, value: goQuote(v), detail: "for 'Gt', 'Lt' operators, the value must be an integer" });
      });
      break;
  }
  vals.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length) errs.push({ field: `values[${i}][${key}]`, value: goQuote(v), detail: valueErrs.join('; ') });
  });
  return { req: { key, operator, values: [...vals] }, errs };
}

function hasLabel(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

function hasValue(r: Requirement, value: string): boolean {
  for (let i = 0; i < r.values.length; i++) if (r.values[i] === value) return true;
  return false;
}

/**
 * requirementMatches is Requirement.Matches: `in`/`=` need the key with one of the values,
 * `notin`/`!=` also match when the key is absent, `gt`/`lt` need an integer label value.
 */
export function requirementMatches(r: Requirement, labels: Labels): boolean {
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return hasLabel(labels, r.key) && hasValue(r, labels[r.key]);
    case 'notin':
    case '!=':
      return !hasLabel(labels, r.key) || !hasValue(r, labels[r.key]);
    case 'exists':
      return hasLabel(labels, r.key);
    case '!':
      return !hasLabel(labels, r.key);
    case 'gt':
    case 'lt': {
      if (!hasLabel(labels, r.key) || r.values.length !== 1) return false;
      const actual = parseInt64(labels[r.key]);
      const bound = parseInt64(r.values[0]);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

const operatorText: Record<Operator, string> = {
  '=': '=',
  '==': '==',
  '!=': '!=',
  in: ' in ',
  notin: ' notin ',
  gt: '>',
  lt: '<',
  exists: '',
  '!': '',
};

/** requirementToString is Requirement.String(): `a=b`, `a in (x,y)` with values sorted, `a`, `!a`, `a>3`. */
export function requirementToString(r: Requirement): string {
  if (r.operator === 'exists') return r.key;
  if (r.operator === '!') return `!${r.key}`;
  // Values are sorted on output only; the requirement itself keeps its order.
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort(compareStrings).join(',');
  const set = r.operator === 'in' || r.operator === 'notin';
  return `${r.key}${operatorText[r.operator]}${set ? `(${values})` : values}`;
}

// compareStrings orders as Go's sort.Strings does for the ASCII that keys and values are made of.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byKey(a: Requirement, b: Requirement): number {
  return compareStrings(a.key, b.key);
}

// ---------------------------------------------------------------------------------------------
// Selectors.

/** matches is Selector.Matches: every requirement holds for labels (missing labels = none). */
export function matches(sel: LabelSelectorExpr, labels: Labels | undefined): boolean {
  if (sel.nothing) return false;
  const reqs = sel.requirements;
  if (reqs.length === 0) return true;
  const ls = labels ?? {};
  for (let i = 0; i < reqs.length; i++) if (!requirementMatches(reqs[i], ls)) return false;
  return true;
}

/** isEverything is Selector.Empty(): true when the selector does not restrict anything. */
export function isEverything(sel: LabelSelectorExpr): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

/** selectorToString is Selector.String(): requirements in key order joined by ','; "" for everything and nothing. */
export function selectorToString(sel: LabelSelectorExpr): string {
  return sel.requirements.map(requirementToString).join(',');
}

/**
 * requiresExactMatch is Selector.RequiresExactMatch: the one value the selector demands for label,
 * from the first requirement on that key when it is `=`, `==` or a single-valued `in`.
 */
export function requiresExactMatch(sel: LabelSelectorExpr, label: string): string | undefined {
  for (const r of sel.requirements) {
    if (r.key !== label) continue;
    if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
    return undefined;
  }
  return undefined;
}

/**
 * selectorFromSet is labels.SelectorFromSet: `key=value` for every entry (not validated);
 * an empty or missing set selects everything. Services and ReplicationControllers select this way.
 */
export function selectorFromSet(set: Labels | undefined): LabelSelectorExpr {
  const keys = Object.keys(set ?? {});
  if (keys.length === 0) return everythingSelector;
  const requirements = keys.map((k): Requirement => ({ key: k, operator: '=', values: [set![k]] }));
  return { requirements: requirements.sort(byKey), nothing: false };
}

// ---------------------------------------------------------------------------------------------
// The string grammar (labels.Parse).

type Token = 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';

interface Item {
  tok: Token;
  lit: string;
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isSpecial(ch: string): boolean {
  return ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';
}

/**
 * scan splits a selector into tokens as the labels lexer does: whitespace separates, the special
 * characters `=!(),<>` form operators (`!=` and `==` are one token), anything else is an identifier
 * unless it is the keyword `in` or `notin`. Like the Go lexer, a NUL character ends the input.
 */
function scan(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  const at = (i: number): string => (i < s.length ? s[i] : '\0');
  for (;;) {
    while (isWhitespace(at(pos))) pos++;
    const ch = at(pos);
    if (ch === '\0') {
      items.push({ tok: 'end', lit: '' });
      return items;
    }
    if (isSpecial(ch)) {
      const two = ch + at(pos + 1);
      if (two === '!=' || two === '==') {
        items.push({ tok: two, lit: two });
        pos += 2;
      } else {
        items.push({ tok: ch as Token, lit: ch });
        pos += 1;
      }
      continue;
    }
    const start = pos;
    while (at(pos) !== '\0' && !isSpecial(at(pos)) && !isWhitespace(at(pos))) pos++;
    const lit = s.slice(start, pos);
    items.push({ tok: lit === 'in' || lit === 'notin' ? lit : 'id', lit });
  }
}

/** SelectorParseError carries labels.Parse's error text until parseLabelSelector wraps it. */
class SelectorParseError extends Error {}

/**
 * Parser is the recursive-descent parser of labels/selector.go. Where a token is read as a value
 * (the key position and inside value lists) the keywords `in`/`notin` count as identifiers, so
 * `in in (in)` is a valid selector.
 */
class Parser {
  private position = 0;
  constructor(private readonly items: Item[]) {}

  private lookahead(asValue: boolean): Item {
    return this.asContext(this.items[this.position], asValue);
  }

  private consume(asValue: boolean): Item {
    return this.asContext(this.items[this.position++], asValue);
  }

  private asContext(item: Item, asValue: boolean): Item {
    if (asValue && (item.tok === 'in' || item.tok === 'notin')) return { tok: 'id', lit: item.lit };
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(true);
      switch (tok) {
        case 'id':
        case '!': {
          let r: Requirement;
          try {
            r = this.parseRequirement();
          } catch (err) {
            if (err instanceof SelectorParseError) throw new SelectorParseError(`unable to parse requirement: ${err.message}`);
            throw err;
          }
          requirements.push(r);
          const next = this.consume(true);
          if (next.tok === 'end') return requirements;
          if (next.tok === ',') {
            const after = this.lookahead(true);
            if (after.tok !== 'id' && after.tok !== '!') throw new SelectorParseError(`found '${after.lit}', expected: identifier after ','`);
            continue;
          }
          throw new SelectorParseError(`found '${next.lit}', expected: ',' or 'end of string'`);
        }
        case 'end':
          return requirements;
        default:
          throw new SelectorParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator: inferred } = this.parseKeyAndInferOperator();
    if (inferred) return this.build(key, inferred, []);
    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    // Values go through a set in Kubernetes: deduplicated and sorted.
    return this.build(key, operator, [...new Set(values)].sort(compareStrings));
  }

  private build(key: string, operator: Operator, values: string[]): Requirement {
    const { req, errs } = newRequirement(key, operator, values);
    if (errs.length) throw new SelectorParseError(aggregateMessage(errs.map(reqErrorText)));
    return req;
  }

  private parseKeyAndInferOperator(): { key: string; operator?: Operator } {
    let item = this.consume(true);
    let operator: Operator | undefined;
    if (item.tok === '!') {
      operator = '!';
      item = this.consume(true);
    }
    if (item.tok !== 'id') throw new SelectorParseError(`found '${item.lit}', expected: identifier`);
    const keyErrs = isQualifiedName(item.lit);
    // The parser validates the key with a nil field path, which Go prints as "<nil>".
    if (keyErrs.length) throw new SelectorParseError(`<nil>: Invalid value: ${goQuote(item.lit)}: ${keyErrs.join('; ')}`);
    const next = this.lookahead(true).tok;
    if ((next === 'end' || next === ',') && operator === undefined) operator = 'exists';
    return { key: item.lit, operator };
  }

  private parseOperator(): Operator {
    const { tok, lit } = this.consume(false);
    switch (tok) {
      case 'in':
        return 'in';
      case 'notin':
        return 'notin';
      case '=':
        return '=';
      case '==':
        return '==';
      case '!=':
        return '!=';
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new SelectorParseError(`found '${lit}', expected: ${binaryOperators.join(', ')}`);
    }
  }

  private parseValues(): string[] {
    const open = this.consume(true);
    if (open.tok !== '(') throw new SelectorParseError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead(true);
    switch (tok) {
      case 'id':
      case ',': {
        const values = this.parseIdentifiersList();
        // parseIdentifiersList only returns in front of ')'.
        this.consume(true);
        return values;
      }
      case ')':
        this.consume(true);
        return [''];
      default:
        throw new SelectorParseError(`found '${lit}', expected: ',', ')' or identifier`);
    }
  }

  /** parseIdentifiersList reads `a,b,c` up to ')'; empty places between commas are the value "". */
  private parseIdentifiersList(): string[] {
    const values: string[] = [];
    for (;;) {
      const { tok, lit } = this.consume(true);
      if (tok === 'id') {
        values.push(lit);
        const next = this.lookahead(true);
        if (next.tok === ',') continue;
        if (next.tok === ')') return values;
        throw new SelectorParseError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        if (values.length === 0) values.push('');
        const next = this.lookahead(true).tok;
        if (next === ')') {
          values.push('');
          return values;
        }
        if (next === ',') {
          this.consume(true);
          values.push('');
        }
        continue;
      }
      throw new SelectorParseError(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): string[] {
    const next = this.lookahead(true).tok;
    if (next === 'end' || next === ',') return [''];
    const { tok, lit } = this.consume(true);
    if (tok === 'id') return [lit];
    throw new SelectorParseError(`found '${lit}', expected: identifier`);
  }
}

/**
 * parseLabelSelector parses the label selector grammar (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma separated); "" selects everything. An invalid
 * selector throws the 400 BadRequest kube-apiserver answers for `?labelSelector=`, whose message is
 * labels.Parse's error text, e.g. `unable to parse requirement: found '', expected: ',' or ')'`.
 */
export function parseLabelSelector(s: string): LabelSelectorExpr {
  let requirements: Requirement[];
  try {
    requirements = new Parser(scan(s)).parse();
  } catch (err) {
    if (err instanceof SelectorParseError) throw badRequest(err.message);
    throw err;
  }
  if (requirements.length === 0) return everythingSelector;
  return { requirements: requirements.sort(byKey), nothing: false };
}

// ---------------------------------------------------------------------------------------------
// metav1.LabelSelector.

const structuredOperators: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * labelSelectorAsSelector is metav1.LabelSelectorAsSelector: a nil selector selects nothing, an
 * empty one everything; matchLabels become `=` requirements, matchExpressions keep their values
 * as given. Throws InvalidLabelSelectorError with Kubernetes' text for an invalid selector.
 */
export function labelSelectorAsSelector(ls: LabelSelector | undefined | null): LabelSelectorExpr {
  if (ls === undefined || ls === null) return nothingSelector;
  const matchLabels = Object.entries(ls.matchLabels ?? {});
  const matchExpressions = ls.matchExpressions ?? [];
  if (matchLabels.length + matchExpressions.length === 0) return everythingSelector;
  const requirements: Requirement[] = [];
  const add = (key: string, operator: Operator, values: readonly string[] | undefined) => {
    const { req, errs } = newRequirement(key, operator, values);
    if (errs.length) throw new InvalidLabelSelectorError(aggregateMessage(errs.map(reqErrorText)));
    requirements.push(req);
  };
  for (const [k, v] of matchLabels) add(k, '=', [v]);
  for (const expr of matchExpressions) {
    const op = Object.prototype.hasOwnProperty.call(structuredOperators, expr.operator) ? structuredOperators[expr.operator] : undefined;
    if (!op) throw new InvalidLabelSelectorError(`${goQuote(String(expr.operator ?? ''))} is not a valid label selector operator`);
    // An absent or empty values list is Go's nil slice here (LabelSelectorAsSelector appends to nil).
    add(expr.key, op, expr.values?.length ? expr.values : undefined);
  }
  return { requirements: requirements.sort(byKey), nothing: false };
}

/**
 * formatLabelSelector is metav1.FormatLabelSelector, the text of `kubectl describe` Selector lines
 * and a Scale's status.selector: the selector's String(), `<none>` when that is empty (a nil or
 * empty selector), `<error>` when the selector is invalid.
 */
export function formatLabelSelector(ls: LabelSelector | undefined | null): string {
  let sel: LabelSelectorExpr;
  try {
    sel = labelSelectorAsSelector(ls);
  } catch (err) {
    if (err instanceof InvalidLabelSelectorError) return '<error>';
    throw err;
  }
  return selectorToString(sel) || '<none>';
}

/** LabelSelectorValidationOptions is metav1validation.LabelSelectorValidationOptions. */
export interface LabelSelectorValidationOptions {
  /** allowInvalidLabelValueInSelector keeps already-stored invalid values valid on update. */
  allowInvalidLabelValueInSelector?: boolean;
  /** allowUnknownOperatorInRequirement lets an uninterpretable operator pass (SubjectAccessReview). */
  allowUnknownOperatorInRequirement?: boolean;
}

/** labelSelectorHasInvalidLabelValue is metav1validation.LabelSelectorHasInvalidLabelValue (decides the option above on update). */
export function labelSelectorHasInvalidLabelValue(ls: LabelSelector | undefined | null): boolean {
  for (const e of ls?.matchExpressions ?? []) {
    for (const v of e.values ?? []) if (isValidLabelValue(v).length) return true;
  }
  return false;
}

/**
 * validateLabelSelector is metav1validation.ValidateLabelSelector: label keys and values of
 * matchLabels, and for every matchExpressions entry its operator, whether values are required
 * (In, NotIn) or forbidden (Exists, DoesNotExist), its key and its values.
 */
export function validateLabelSelector(ls: LabelSelector | undefined | null, path: Path, opts: LabelSelectorValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  if (ls === undefined || ls === null) return errs;
  const labelsPath = path.child('matchLabels');
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(invalidValue(labelsPath, k, m));
    // metav1validation.ValidateLabels reports values at the matchLabels path itself, not under the key.
    for (const m of isValidLabelValue(v)) errs.push(invalidValue(labelsPath, v, m));
  }
  (ls.matchExpressions ?? []).forEach((expr, i) => {
    errs.push(...validateLabelSelectorRequirement(expr, path.child('matchExpressions').index(i), opts));
  });
  return errs;
}

/** validateLabelSelectorRequirement is metav1validation.ValidateLabelSelectorRequirement. */
export function validateLabelSelectorRequirement(expr: LabelSelectorRequirement, path: Path, opts: LabelSelectorValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const values = expr.values ?? [];
  switch (expr.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbiddenField(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      if (!opts.allowUnknownOperatorInRequirement) errs.push(invalidValue(path.child('operator'), expr.operator ?? '', 'not a valid selector operator'));
  }
  const key = expr.key ?? '';
  for (const m of isQualifiedName(key)) errs.push(invalidValue(path.child('key'), key, m));
  if (!opts.allowInvalidLabelValueInSelector) {
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(invalidValue(path.child('values').index(j), v, m));
    });
  }
  return errs;
}
