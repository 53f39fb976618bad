/**
 * EventBridge's input transformer, as its documentation describes it
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):
 * each name of the paths map is bound to the value at its JSON path (`$.detail.stage`) of
 * the event, and each `<name>` of the template is replaced by it. Inside a quoted string
 * a value goes in as text; outside, as JSON (a string quoted, an object as is); a path the
 * event does not have gives an empty text inside a string and `null` outside. The
 * predefined `<aws.events.event>`, `<aws.events.rule-arn>` and friends are not modelled.
 */
import { RehearsalError } from './errors';

/** The value at a JSON path of the form `$.a.b-c.d` (dots only, as the factory's rules write them). */
export function valueAtPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  if (!path.startsWith('$.')) throw new RehearsalError(`input path '${path}' is not a JSON path of the form $.a.b`);
  let value: unknown = event;
  for (const part of path.slice(2).split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** What the target receives for `event`. */
export function transformInput(event: unknown, transformer: { readonly paths: Readonly<Record<string, string>>; readonly template: string }): string {
  const values = new Map(Object.entries(transformer.paths).map(([name, path]) => [name, valueAtPath(event, path)]));
  let out = '';
  let inString = false;
  for (let i = 0; i < transformer.template.length; i++) {
    const c = transformer.template[i];
    if (c === '\\' && inString) {
      out += c + (transformer.template[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    const name = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(transformer.template.slice(i))?.[1] : undefined;
    if (name !== undefined && values.has(name)) {
      const value = values.get(name);
      if (inString) out += value === undefined || value === null ? '' : JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value)).slice(1, -1);
      else out += value === undefined ? 'null' : JSON.stringify(value);
      i += name.length + 1;
      continue;
    }
    out += c;
  }
  return out;
}
