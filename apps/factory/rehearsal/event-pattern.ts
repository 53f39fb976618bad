/**
 * EventBridge's event pattern matching, as its documentation defines it ("Amazon
 * EventBridge event patterns" and "Content filtering"): every field of the pattern must
 * match; a nested object matches the event's object at that key; an array lists the
 * values one of which the event's value (or one element of the event's array) must
 * equal or satisfy: exact strings, numbers, `null`, and the filters `prefix`, `suffix`
 * (each also with `equals-ignore-case`), `anything-but` (a value, a list, or a `prefix`/
 * `suffix`/`wildcard`), `numeric`, `exists`, `equals-ignore-case`, `wildcard`, `cidr`;
 * `$or` lists alternatives. moto's `TestEventPattern` answers nothing, so the rehearsal
 * matches its rules with this.
 */

/** Thrown for a pattern EventBridge would reject. */
export class EventPatternError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Whether `event` matches `pattern`. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new EventPatternError(`an event pattern is a JSON object, not ${JSON.stringify(pattern)}`);
  return matchObject(pattern as { [key: string]: Json }, event as Json);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchObject(pattern: { [key: string]: Json }, event: Json): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(expected) || expected.length === 0) throw new EventPatternError('$or takes a non-empty list of patterns');
      if (!expected.some((p) => isObject(p) && matchObject(p as { [key: string]: Json }, event))) return false;
      continue;
    }
    const value = isObject(event) ? (event as Record<string, Json>)[key] : undefined;
    if (isObject(expected)) {
      if (!isObject(value)) return false;
      if (!matchObject(expected as { [key: string]: Json }, value as Json)) return false;
    } else if (Array.isArray(expected)) {
      if (!matchValues(expected, value)) return false;
    } else {
      throw new EventPatternError(`the value of '${key}' in an event pattern must be a list or an object, not ${JSON.stringify(expected)}`);
    }
  }
  return true;
}

/** The list of one field: one element must match the event's value, or one of its elements. */
function matchValues(expected: Json[], value: Json | undefined): boolean {
  // `exists` looks at the field itself, not its values.
  for (const e of expected) {
    if (isObject(e) && 'exists' in e) {
      const present = value !== undefined && !(Array.isArray(value) && value.length === 0) && !isObject(value);
      if ((e.exists as boolean) === present) return true;
    }
  }
  if (value === undefined) return false;
  const values: Json[] = Array.isArray(value) ? value : [value];
  return values.some((v) => expected.some((e) => (isObject(e) ? !('exists' in e) && matchFilter(e as Record<string, Json>, v) : e === v)));
}

function matchFilter(filter: Record<string, Json>, value: Json): boolean {
  const [op, arg] = Object.entries(filter)[0] ?? [];
  switch (op) {
    case 'prefix':
      if (isObject(arg)) return typeof value === 'string' && value.toLowerCase().startsWith(String(arg['equals-ignore-case']).toLowerCase());
      return typeof value === 'string' && value.startsWith(String(arg));
    case 'suffix':
      if (isObject(arg)) return typeof value === 'string' && value.toLowerCase().endsWith(String(arg['equals-ignore-case']).toLowerCase());
      return typeof value === 'string' && value.endsWith(String(arg));
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcard(String(arg)).test(value);
    case 'anything-but': {
      if (isObject(arg)) return !matchFilter(arg as Record<string, Json>, value);
      const list = Array.isArray(arg) ? arg : [arg];
      return !list.includes(value);
    }
    case 'numeric':
      return typeof value === 'number' && numeric(arg as Json[], value);
    case 'cidr':
      return typeof value === 'string' && inCidr(String(arg), value);
    default:
      throw new EventPatternError(`the rehearsal does not know the event pattern filter ${JSON.stringify(filter)}`);
  }
}

function wildcard(text: string): RegExp {
  return new RegExp(
    `^${text
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
}

function numeric(ops: Json[], value: number): boolean {
  for (let i = 0; i + 1 < ops.length; i += 2) {
    const [op, bound] = [ops[i], Number(ops[i + 1])];
    const ok =
      op === '='
        ? value === bound
        : op === '<'
          ? value < bound
          : op === '<='
            ? value <= bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : undefined;
    if (ok === undefined) throw new EventPatternError(`unknown numeric operator ${JSON.stringify(op)}`);
    if (!ok) return false;
  }
  return true;
}

function inCidr(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/');
  const toInt = (a: string) => a.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && (toInt(ip) & mask) === (toInt(base) & mask);
}
