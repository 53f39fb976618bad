/** Checks of the raw values of a parsed catalogue file; each failure is a {@link CatalogError} naming the value and the rule. */
import { CatalogError } from '../catalog-error';

export function asObject(raw: unknown, where: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new CatalogError(`${where} must be an object (a mapping), got ${JSON.stringify(raw)}`);
  return raw as Record<string, unknown>;
}

export function checkKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new CatalogError(`unknown key '${key}' in ${where}: allowed keys are ${allowed.join(', ')}`);
  }
}

export function stringValue(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new CatalogError(`${where} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** `true` or `false` (YAML's `yes` and `on` are strings in YAML 1.2, and refused with the rest). */
export function booleanValue(v: unknown, where: string, fix: string): boolean {
  if (typeof v !== 'boolean') throw new CatalogError(`${where} must be true or false, got ${JSON.stringify(v)}: ${fix}`);
  return v;
}

export function wholeNumber(v: unknown, min: number, max: number, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new CatalogError(`${where} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

export function arrayValue(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new CatalogError(`${where} must be a list, got ${JSON.stringify(v)}`);
  return v;
}

export function enumValue<T extends string>(v: unknown, allowed: readonly T[], where: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new CatalogError(`${where} is ${JSON.stringify(v)}: use one of ${allowed.join(', ')}`);
  }
  return v as T;
}

/** A non-empty list of allowed values, each once. */
export function enumList<T extends string>(v: unknown, allowed: readonly T[], where: string): T[] {
  const list = arrayValue(v, where).map((x) => enumValue(x, allowed, where));
  if (list.length === 0) throw new CatalogError(`${where} must not be empty: use one or more of ${allowed.join(', ')}`);
  const dup = list.find((x, i) => list.indexOf(x) !== i);
  if (dup) throw new CatalogError(`${where} lists '${dup}' twice`);
  return list;
}

/** A list of strings, each once; it may be empty. */
export function uniqueStrings(v: unknown, where: string): string[] {
  const list = arrayValue(v, where).map((x) => stringValue(x, where));
  const dup = list.find((x, i) => list.indexOf(x) !== i);
  if (dup) throw new CatalogError(`${where} lists '${dup}' twice`);
  return list;
}
