// goJSONSyntaxError words a JSON syntax error as Go's encoding/json scanner does ("invalid
// character 'a' looking for beginning of value"): Kubernetes returns these texts for bodies that
// do not parse, and JSON.parse's own texts differ.

import { goQuote } from './goquote.js';

/** quoteChar is encoding/json's quoteChar: a byte in single quotes, Go-escaped. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const q = goQuote(String.fromCharCode(c));
  return `'${q.slice(1, -1)}'`;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

class GoSyntaxError extends Error {}

/**
 * goJSONSyntaxError scans data as encoding/json's checkValid does and returns its error text for
 * the first syntax error, or undefined when data is valid JSON. Iterative: no stack depth limit.
 */
export function goJSONSyntaxError(data: Uint8Array): string | undefined {
  let i = 0;
  const fail = (c: number, context: string): never => {
    throw new GoSyntaxError(`invalid character ${quoteChar(c)} ${context}`);
  };
  const next = (): number => {
    if (i >= data.length) throw new GoSyntaxError('unexpected end of JSON input');
    return data[i++]!;
  };
  const skipSpace = (): number => {
    let c = next();
    while (isSpace(c)) c = next();
    return c;
  };
  const literal = (word: string): void => {
    for (let k = 1; k < word.length; k++) {
      const c = next();
      if (c !== word.charCodeAt(k)) fail(c, `in literal ${word} (expecting ${quoteChar(word.charCodeAt(k))})`);
    }
  };
  const string = (): void => {
    for (;;) {
      const c = next();
      if (c === 0x22) return;
      if (c < 0x20) fail(c, 'in string literal');
      if (c !== 0x5c) continue;
      const e = next();
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) {
          const h = next();
          if (!isHex(h)) fail(h, 'in \\u hexadecimal character escape');
        }
      } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) fail(e, 'in string escape code');
    }
  };
  // number scans the rest of a number whose first byte was c; the byte after it is left unread.
  const number = (c: number): void => {
    if (c === 0x2d) {
      c = next();
      if (!isDigit(c)) fail(c, 'in numeric literal');
    }
    const peek = () => (i < data.length ? data[i]! : -1);
    if (c !== 0x30) while (isDigit(peek())) i++;
    if (peek() === 0x2e) {
      i++;
      const d = next();
      if (!isDigit(d)) fail(d, 'after decimal point in numeric literal');
      while (isDigit(peek())) i++;
    }
    if (peek() === 0x65 || peek() === 0x45) {
      i++;
      let d = next();
      if (d === 0x2b || d === 0x2d) d = next();
      if (!isDigit(d)) fail(d, 'in exponent of numeric literal');
      while (isDigit(peek())) i++;
    }
  };
  // value scans one value starting at byte c; true when it opened an object or array.
  const value = (c: number, context: string): boolean => {
    switch (c) {
      case 0x7b:
      case 0x5b:
        return true;
      case 0x22:
        string();
        return false;
      case 0x74:
        literal('true');
        return false;
      case 0x66:
        literal('false');
        return false;
      case 0x6e:
        literal('null');
        return false;
    }
    if (c === 0x2d || isDigit(c)) {
      number(c);
      return false;
    }
    return fail(c, context);
  };
  const stack: number[] = []; // the open brackets: 0x7b { or 0x5b [
  // key reads an object key (its opening quote is c) and the colon after it.
  const key = (c: number): void => {
    if (c !== 0x22) fail(c, 'looking for beginning of object key string');
    string();
    const colon = skipSpace();
    if (colon !== 0x3a) fail(colon, 'after object key');
  };
  try {
    let c = skipSpace();
    let opened = value(c, 'looking for beginning of value');
    for (;;) {
      if (opened) {
        const open = data[i - 1]!;
        c = skipSpace();
        if (open === 0x7b && c === 0x7d) opened = false;
        else if (open === 0x5b && c === 0x5d) opened = false;
        else {
          stack.push(open);
          if (open === 0x7b) {
            key(c);
            c = skipSpace();
          }
          opened = value(c, 'looking for beginning of value');
          continue;
        }
      }
      // A value has ended: what may follow depends on what holds it.
      const top = stack[stack.length - 1];
      if (top === undefined) {
        while (i < data.length) {
          const t = data[i++]!;
          if (!isSpace(t)) fail(t, 'after top-level value');
        }
        return undefined;
      }
      c = skipSpace();
      if (c === 0x2c) {
        c = skipSpace();
        if (top === 0x7b) {
          key(c);
          c = skipSpace();
        }
        opened = value(c, 'looking for beginning of value');
      } else if ((top === 0x7b && c === 0x7d) || (top === 0x5b && c === 0x5d)) {
        stack.pop();
      } else {
        fail(c, top === 0x7b ? 'after object key:value pair' : 'after array element');
      }
    }
  } catch (err) {
    if (err instanceof GoSyntaxError) return err.message;
    throw err;
  }
}
