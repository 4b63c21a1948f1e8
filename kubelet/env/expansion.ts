// $(VAR) expansion as Kubernetes does it for env values, command, args and subPathExpr
// (third_party/forked/golang/expansion): `$(NAME)` becomes the mapped value, `$$` is an escaped
// `$`, an unknown or unterminated reference and a `$` before any other character are kept as
// written. Expansion is one pass: a value that itself contains `$(X)` is not expanded again.

/** Mapping gives the value of a variable name (or the reference as written, to leave it alone). */
export type Mapping = (name: string) => string;

/** syntaxWrap writes a name back as the reference it came from: `$(name)`. */
export function syntaxWrap(name: string): string {
  return `$(${name})`;
}

/**
 * mappingFuncFor looks a name up in each context in turn; a name found in none is left as the
 * reference `$(name)`, so unknown variables survive expansion unchanged.
 */
export function mappingFuncFor(...contexts: ReadonlyMap<string, string>[]): Mapping {
  return (name) => {
    for (const vars of contexts) {
      const v = vars.get(name);
      if (v !== undefined) return v;
    }
    return syntaxWrap(name);
  };
}

/** expand replaces the `$(VAR)` references in input through mapping, in one left-to-right pass. */
export function expand(input: string, mapping: Mapping): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    const { text, isVar, advance } = readVariableName(rest);
    out += isVar ? mapping(text) : text;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/**
 * readVariableName reads what follows a `$`: `$` (an escaped operator), `(NAME)` (a reference),
 * or anything else (kept with its `$`). advance is how many characters after the `$` it used.
 */
function readVariableName(input: string): { text: string; isVar: boolean; advance: number } {
  if (input[0] === '$') return { text: '$', isVar: false, advance: 1 };
  if (input[0] === '(') {
    const close = input.indexOf(')', 1);
    if (close >= 0) return { text: input.slice(1, close), isVar: true, advance: close + 1 };
    // An unterminated reference: keep "$(" and go on reading after the parenthesis.
    return { text: '$(', isVar: false, advance: 1 };
  }
  return { text: '$' + input[0], isVar: false, advance: 1 };
}
