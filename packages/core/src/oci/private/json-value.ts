/** How the readers of other programs' JSON (scan findings, SBOMs) name a value that is not what they expected. */

/** True for a JSON object: not `null`, not a list. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as JSON, cut to `max` characters (`…` where cut); never throws. */
export function abbreviateValue(value: unknown, max = 60): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= typeof value;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What a value is, for a message: `missing`, `null`, `a list ([1,2])`, `a string ("CRITICAL ")`, … */
export function describeValue(value: unknown, max = 60): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  const what = Array.isArray(value)
    ? 'a list'
    : typeof value === 'object'
      ? 'an object'
      : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string'
        ? `a ${typeof value}`
        : `a value of type ${typeof value}`;
  return `${what} (${abbreviateValue(value, max)})`;
}
