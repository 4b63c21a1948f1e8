// The JSONPath of additionalPrinterColumns and selectableFields, as client-go's jsonpath evaluates
// it for the first result: `.spec.replicas`, `.spec.containers[0].image`, `.metadata.labels['app']`,
// `.items[*].name` and filters such as `.status.conditions[?(@.type=="Ready")].status`.

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: string[]; op?: string; value?: unknown };

/** JSONPathError is a path the parser does not understand. */
export class JSONPathError extends Error {
  constructor(path: string, why: string) {
    super(`unrecognized column definition ${JSON.stringify(path)}: ${why}`);
    this.name = 'JSONPathError';
  }
}

function parseLiteral(s: string): unknown {
  const t = s.trim();
  if (/^(['"]).*\1$/.test(t)) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  if (t !== '' && !Number.isNaN(Number(t))) return Number(t);
  return t;
}

/** parseJSONPath splits a path (with or without the surrounding `{}`) into steps. */
export function parseJSONPath(path: string): Step[] {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p.startsWith('$')) p = p.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === '.') {
      i++;
      let j = i;
      while (j < p.length && p[j] !== '.' && p[j] !== '[') j++;
      const name = p.slice(i, j);
      if (name === '*') steps.push({ kind: 'wildcard' });
      else if (name) steps.push({ kind: 'field', name });
      i = j;
    } else if (c === '[') {
      const end = p.indexOf(']', i);
      if (end < 0) throw new JSONPathError(path, 'unterminated [');
      const inner = p.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^(['"]).*\1$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const m = /^@((?:\.[\w-]+)+)\s*(?:(==|!=|<=|>=|<|>)\s*(.+))?$/.exec(inner.slice(2, -1).trim());
        if (!m) throw new JSONPathError(path, `unsupported filter ${inner}`);
        steps.push({ kind: 'filter', path: m[1].split('.').slice(1), op: m[2], value: m[3] === undefined ? undefined : parseLiteral(m[3]) });
      } else throw new JSONPathError(path, `unsupported subscript [${inner}]`);
    } else throw new JSONPathError(path, `unexpected ${JSON.stringify(c)}`);
  }
  return steps;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function dig(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function matchesFilter(item: unknown, step: Extract<Step, { kind: 'filter' }>): boolean {
  const v = dig(item, step.path);
  if (step.op === undefined) return v !== undefined;
  if (v === undefined) return false;
  switch (step.op) {
    case '==':
      return v === step.value;
    case '!=':
      return v !== step.value;
    case '<':
      return (v as number) < (step.value as number);
    case '>':
      return (v as number) > (step.value as number);
    case '<=':
      return (v as number) <= (step.value as number);
    case '>=':
      return (v as number) >= (step.value as number);
  }
  return false;
}

/** findResults returns every value the path reaches in obj, in document order (missing keys give none). */
export function findResults(steps: Step[], obj: unknown): unknown[] {
  let current: unknown[] = [obj];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (step.kind) {
        case 'field':
          if (isObject(v) && Object.hasOwn(v, step.name)) next.push(v[step.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case 'wildcard':
          if (Array.isArray(v)) next.push(...v);
          else if (isObject(v)) next.push(...Object.keys(v).sort().map((k) => v[k]));
          break;
        case 'filter':
          if (Array.isArray(v)) next.push(...v.filter((item) => matchesFilter(item, step)));
          break;
      }
    }
    current = next;
  }
  return current;
}
