/**
 * The options a `devcontainer.json` gives a feature
 * (`"features": { "<ref>": { "version": "3.12" } }`, or the string shorthand `"<ref>": "3.12"`),
 * checked against the feature's definition (`devcontainer-feature.json`) the way the
 * devcontainer CLI (0.89) treats them.
 *
 * The CLI never checks an option value. It merges the given options over the defaults
 * (`getFeatureValueObject`: `{ ...defaults, ...given }`, or `{ ...defaults, version: given }`
 * for a string), turns every id into a variable (`getSafeId`), writes one `NAME="value"` line
 * per key into `devcontainer-features.env` (`getFeatureEnvVariables`, the value put into a
 * template string, unescaped), and the install wrapper runs `set -e; set -a; . ./devcontainer-features.env`
 * in `sh` before `install.sh`. So an error here is only what makes the CLI or that shell
 * fail; everything the CLI tolerates (a boolean written as "true", an unknown id, a value
 * outside `enum`) is a warning.
 */
import { parseJsonc } from '../config/devcontainer-json';

/** One finding about the options given to a feature. */
export interface FeatureOptionProblem {
  /** `error`: the devcontainer CLI, or the shell it writes the options for, fails on it. `warning`: the CLI goes on, but probably not as meant. */
  readonly severity: 'error' | 'warning';
  /** The option id as written in devcontainer.json, when the problem is about one option. */
  readonly option?: string;
  /** Names the feature and the option, says what the definition allows and what to write instead. */
  readonly message: string;
}

/** Most options of one feature value that are checked (real configurations give fewer than 20); the rest are counted in one warning. */
export const MAX_CHECKED_FEATURE_OPTIONS = 256;
/** Longest value, option id or enum entry quoted in a message, in characters; longer ones end in `…`. */
export const MAX_SHOWN_OPTION_CHARS = 60;
/** Most option ids or enum values listed in one message; the rest are counted. */
export const MAX_LISTED_OPTION_NAMES = 12;
/** Largest manifest {@link featureDefinitionOfManifest} reads: 4 MiB, the limit of the OCI distribution spec. */
export const MAX_FEATURE_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Deepest nesting of arrays inside one option value that is rendered as the CLI would (parseJsonc allows no deeper). */
const MAX_VALUE_DEPTH = 64;
/** Option ids compared with an unknown one to suggest a correction, and the longest id compared. */
const MAX_SUGGESTION_CANDIDATES = 1000;
const MAX_SUGGESTION_ID_CHARS = 64;
/** The manifest annotation `devcontainer features publish` writes, as in `DEVCONTAINER_ARTIFACT.metadataAnnotation` (not imported: that module imports this one's importers). */
const METADATA_ANNOTATION = 'dev.containers.metadata';
/** The CLI's error for an object written as an option value: it substitutes variables into null-prototype copies, which have no `toString`. */
const OBJECT_FAILURE = '"Cannot convert object to primitive value"';

/**
 * The environment variable the devcontainer CLI sets for option `id`, as its `getSafeId`
 * derives it: every character other than a letter, digit or `_` becomes `_`, a leading run
 * of digits and `_` becomes one `_`, then upper case. `install-tools` → `INSTALL_TOOLS`,
 * `__a` → `_A`, `1st` → `_ST`.
 */
export function featureOptionVariable(id: string): string {
  return id
    .replace(/[^\w_]/g, '_')
    .replace(/^[\d_]+/, '_')
    .toUpperCase();
}

/**
 * Groups of option ids of one definition that map to the same environment variable
 * (`_a` and `__a`, `a-b` and `a_b`, `tool` and `Tool`): the CLI writes a line for each and
 * `install.sh` sees only the last, so a value given for the other is lost. Each group is
 * sorted, the groups by their first id; `[]` when there is no clash.
 */
export function optionVariableClashes(optionIds: readonly string[]): string[][] {
  const byVariable = new Map<string, Set<string>>();
  for (const id of optionIds) {
    const variable = featureOptionVariable(id);
    const ids = byVariable.get(variable) ?? new Set<string>();
    ids.add(id);
    byVariable.set(variable, ids);
  }
  return [...byVariable.values()]
    .filter((ids) => ids.size > 1)
    .map((ids) => [...ids].sort())
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * What `sh` makes of a value's text in the line `NAME="<text>"` that the CLI writes into
 * `devcontainer-features.env`: `verbatim` when install.sh gets exactly the text;
 * `unterminated` when the shell certainly fails on it (an unbalanced `"` or a trailing `\`,
 * with no `$` or backquote to make the quoting depend on what runs); `interpreted` otherwise,
 * when `$`, backquotes, `"` or `\` change the value, run commands or break the line.
 * The devcontainer variables the CLI substitutes first (`${localEnv:…}`, `${localWorkspaceFolder}`, …)
 * count as plain text.
 */
export function optionTextInEnvFile(text: string): 'verbatim' | 'interpreted' | 'unterminated' {
  const plain = text.replace(DEVCONTAINER_VARIABLE, 'x');
  if (!/["\\`$]/.test(plain)) return 'verbatim';
  if (/[`$]/.test(plain)) return 'interpreted';
  return endsQuoted(`${plain}"`) ? 'unterminated' : 'interpreted';
}

/** Variables the devcontainer CLI replaces in devcontainer.json before it writes any option (`replaceWithContext`, `replaceContainerEnv`, `replaceDevContainerId`). */
const DEVCONTAINER_VARIABLE =
  /\$\{(?:env|localEnv|containerEnv):[^}]*\}|\$\{(?:localWorkspaceFolder|localWorkspaceFolderBasename|containerWorkspaceFolder|containerWorkspaceFolderBasename|devcontainerId)\}/g;

/**
 * True when `sh`, reading `rest` after an opening `"` (and with no `$` or backquote in it),
 * reaches the end still inside a quote: POSIX quoting, with `\` escaping only `$`, backquote,
 * `"`, `\` and newline inside double quotes, and `#` starting a comment at the start of a word.
 */
function endsQuoted(rest: string): boolean {
  let state: 'double' | 'single' | 'none' = 'double';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (state === 'double') {
      if (c === '\\' && i + 1 < rest.length && '$`"\\\n'.includes(rest[i + 1])) i++;
      else if (c === '"') state = 'none';
    } else if (state === 'single') {
      if (c === "'") state = 'none';
    } else if (c === '\\') {
      i++;
    } else if (c === '"') {
      state = 'double';
    } else if (c === "'") {
      state = 'single';
    } else if (c === '#' && /[\s;&|()<>]/.test(rest[i - 1])) {
      const newline = rest.indexOf('\n', i);
      if (newline < 0) return false;
      i = newline;
    }
  }
  return state !== 'none';
}

/** One option as the definition declares it, read defensively: a definition from a registry may be anything. */
interface Declared {
  readonly id: string;
  readonly type?: 'boolean' | 'string';
  readonly enum?: readonly string[];
  readonly hasDefault: boolean;
  readonly default?: unknown;
}

/**
 * The value given for a feature in devcontainer.json (`given`: an object of options, the
 * string shorthand, a boolean, or anything else a file may hold), checked against the
 * feature's definition (its parsed `devcontainer-feature.json`). `feature` is the reference
 * as devcontainer.json writes it, for the messages. Returns the problems in a fixed order:
 * the definition's own clashes, then the given options in their order; `[]` when all is well.
 * `proposals` are suggestions only: any string is fine for an option that has them.
 */
export function checkFeatureOptions(feature: string, definition: unknown, given: unknown): FeatureOptionProblem[] {
  const where = `feature ${feature}`;
  if (!isObject(definition)) {
    return [
      {
        severity: 'warning',
        message: `${where}: its definition (devcontainer-feature.json) is not a JSON object, so the options given to it were not checked`,
      },
    ];
  }
  const options = isObject(definition.options) ? definition.options : {};
  const declared = new Map<string, Declared>(Object.keys(options).map((id) => [id, declaredOption(id, options[id])]));
  const problems: FeatureOptionProblem[] = optionVariableClashes([...declared.keys()]).map((ids) => {
    const [all, others, rename] = ids.length === 2 ? ['both', 'the other', 'one of them'] : ['all', 'the others', 'all but one'];
    return {
      severity: 'error',
      message:
        `${where}: options ${ids.map(quote).join(' and ')} of this feature ${all} become the environment variable ${truncated(featureOptionVariable(ids[0]))}; ` +
        `the devcontainer CLI writes a line for each and install.sh sees only the last, so a value given for ${others} is lost: the feature's devcontainer-feature.json must rename ${rename}`,
    };
  });
  if (given === undefined) return problems;
  const context: Context = { where, declared, problems };
  if (given === null) {
    problems.push({
      severity: 'error',
      message: `${where}: the value is null, on which the devcontainer CLI fails ("Cannot convert undefined or null to object") while it orders the features: write {} to install the feature with its defaults`,
    });
  } else if (Array.isArray(given)) {
    checkArrayValue(context, given);
  } else if (isObject(given)) {
    checkOptionObject(context, given);
  } else {
    checkShorthand(context, given, Boolean(ownValue(options, 'version')));
  }
  return problems;
}

/**
 * The feature definition an OCI feature's manifest carries: the annotation
 * `dev.containers.metadata`, in which `devcontainer features publish` writes the feature's
 * whole `devcontainer-feature.json` as JSON (`JSON.stringify` of it), and which the CLI reads
 * back with a JSONC parser. Undefined when the manifest is larger than
 * {@link MAX_FEATURE_MANIFEST_BYTES}, is not a JSON object, or has no such annotation holding a
 * JSON object (features published by old CLIs: then the definition is the
 * `devcontainer-feature.json` inside the feature's layer).
 */
export function featureDefinitionOfManifest(manifest: Buffer | Uint8Array): Record<string, unknown> | undefined {
  if (manifest.byteLength > MAX_FEATURE_MANIFEST_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(manifest.buffer, manifest.byteOffset, manifest.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(json) || !isObject(json.annotations)) return undefined;
  const text = ownValue(json.annotations, METADATA_ANNOTATION);
  return typeof text === 'string' ? parseJsonc(text).value : undefined;
}

interface Context {
  readonly where: string;
  readonly declared: ReadonlyMap<string, Declared>;
  readonly problems: FeatureOptionProblem[];
}

function declaredOption(id: string, option: unknown): Declared {
  if (!isObject(option)) return { id, hasDefault: false };
  const type = ownValue(option, 'type');
  const values = ownValue(option, 'enum');
  return {
    id,
    type: type === 'boolean' || type === 'string' ? type : undefined,
    enum: type === 'string' && Array.isArray(values) && values.length > 0 ? values.filter((v): v is string => typeof v === 'string') : undefined,
    hasDefault: Object.hasOwn(option, 'default'),
    default: ownValue(option, 'default'),
  };
}

/** `"<ref>": "3.12"`, `true`, `false` or a number: the CLI sets option `version` to it when the feature has one, and otherwise ignores it. */
function checkShorthand({ where, declared, problems }: Context, given: unknown, hasVersion: boolean): void {
  const version = declared.get('version');
  if (given === false) {
    const how = hasVersion ? 'with option "version" set to "false"' : 'with its defaults';
    problems.push({
      severity: 'warning',
      message: `${where}: false does not leave the feature out: the devcontainer CLI installs it all the same, ${how}; remove the entry to leave the feature out`,
    });
    return;
  }
  if (!hasVersion) {
    if (given === true) return;
    problems.push({
      severity: 'warning',
      message:
        `${where}: ${describe(given)} is shorthand for { "version": ${shown(given)} }, but this feature has no option "version" ${optionList(declared)}; ` +
        `the devcontainer CLI ignores it and installs the feature with its defaults: write its options as an object, or {} for the defaults`,
    });
    return;
  }
  if (given === true) {
    problems.push({
      severity: 'warning',
      message: `${where}: true is shorthand for { "version": true }, so the devcontainer CLI passes VERSION="true" to install.sh: write {} to install the feature with its default version${version?.hasDefault ? ` (${shown(version.default)})` : ''}`,
    });
    return;
  }
  checkValue({ where, declared, problems }, 'option "version" (set by the shorthand value)', undefined, version, given);
}

/** An array where options belong: the CLI merges its items in as options "0", "1", …, all of which become the variable `_`. */
function checkArrayValue(context: Context, given: readonly unknown[]): void {
  if (given.some((item) => rendered(item).kind === 'object')) {
    context.problems.push({
      severity: 'error',
      message: `${context.where}: the value is an array holding an object, on which the devcontainer CLI fails (${OBJECT_FAILURE}): write the options as an object, e.g. { "version": "…" }`,
    });
    return;
  }
  context.problems.push({
    severity: 'warning',
    message: `${context.where}: the value is an array, not options: the devcontainer CLI passes its items to install.sh as the variable _ and installs the feature with its defaults; write the options as an object ${optionList(context.declared)}, or {} for the defaults`,
  });
}

function checkOptionObject(context: Context, given: Record<string, unknown>): void {
  const { where, declared, problems } = context;
  const allIds = Object.keys(given);
  const ids = allIds.slice(0, MAX_CHECKED_FEATURE_OPTIONS);
  const declaredByVariable = new Map<string, Declared>();
  for (const option of declared.values())
    if (!declaredByVariable.has(featureOptionVariable(option.id))) declaredByVariable.set(featureOptionVariable(option.id), option);
  for (const id of ids) {
    const value = given[id];
    const label = `option ${quote(id)}`;
    const own = declared.get(id);
    if (own) {
      checkValue(context, label, id, own, value);
      continue;
    }
    const variable = featureOptionVariable(id);
    const alias = declaredByVariable.get(variable);
    if (alias) {
      problems.push({
        severity: 'warning',
        option: id,
        message: `${where}: ${label} is not an option of this feature, but it becomes the same environment variable, ${variable}, as option ${quote(alias.id)}, so the devcontainer CLI lets it set that option: write ${quote(alias.id)}`,
      });
      checkValue(context, `${label} (that is, ${quote(alias.id)})`, id, alias, value);
      continue;
    }
    const meant = suggestion(id, [...declared.keys()].slice(0, MAX_SUGGESTION_CANDIDATES));
    problems.push({
      severity: 'warning',
      option: id,
      message:
        `${where}: ${label} is not an option of this feature ${optionList(declared)}; the devcontainer CLI only passes it to install.sh as the variable ${truncated(variable)}, which the feature does not declare` +
        (meant ? ` — did you mean ${quote(meant)}?` : ': remove it'),
    });
    checkValue(context, label, id, undefined, value);
  }
  checkSameVariable(context, ids);
  if (allIds.length > ids.length) {
    problems.push({
      severity: 'warning',
      message: `${where}: ${allIds.length} options are given; only the first ${MAX_CHECKED_FEATURE_OPTIONS} (the limit) were checked`,
    });
  }
}

/** Given ids that become one variable: the CLI writes a line for each, in the order of `{ ...defaults, ...given }`, and the last one wins. */
function checkSameVariable({ where, declared, problems }: Context, ids: readonly string[]): void {
  const byVariable = new Map<string, string[]>();
  for (const id of ids) byVariable.set(featureOptionVariable(id), [...(byVariable.get(featureOptionVariable(id)) ?? []), id]);
  const withDefault = [...declared.values()].filter((o) => o.hasDefault).map((o) => o.id);
  const written = [...withDefault, ...ids.filter((id) => !declared.get(id)?.hasDefault)];
  for (const [variable, same] of byVariable) {
    if (same.length < 2) continue;
    if (same.every((id) => declared.has(id))) continue; // a clash of the definition, already an error
    const last = written.filter((id) => featureOptionVariable(id) === variable).pop()!;
    problems.push({
      severity: 'warning',
      option: last,
      message: `${where}: options ${same.map(quote).join(' and ')} ${same.length === 2 ? 'both' : 'all'} become the environment variable ${truncated(variable)}; the devcontainer CLI writes a line for each and install.sh sees only the last, ${quote(last)}: give only one of them`,
    });
  }
}

/**
 * Checks one value against the option it sets (`target`, undefined for an unknown id): the
 * text the CLI writes for it, its type, its `enum`, and what the shell makes of the text.
 */
function checkValue({ where, problems }: Context, label: string, option: string | undefined, target: Declared | undefined, value: unknown): void {
  const push = (severity: FeatureOptionProblem['severity'], message: string) =>
    problems.push({ severity, ...(option === undefined ? {} : { option }), message: `${where}: ${label} ${message}` });
  const type = target?.type;
  const instead = type === 'boolean' ? 'write true or false' : type === 'string' ? 'write a string, in quotes' : 'remove it';
  const text = rendered(value);
  if (text.kind === 'object') {
    push(
      'error',
      `is given ${Array.isArray(value) ? 'an array holding an object' : 'an object'}, on which the devcontainer CLI fails (${OBJECT_FAILURE}) when it writes the options for install.sh: ${instead}`,
    );
    return;
  }
  if (text.kind === 'too-deep') {
    push('warning', `is given arrays nested more than ${MAX_VALUE_DEPTH} deep, which were not checked: ${instead}`);
    return;
  }
  const passes = `the devcontainer CLI passes the text ${shownText(text.text)}`;
  const fallback = target?.hasDefault ? ` instead of the default, ${shown(target.default)}` : '';
  if (type === 'boolean' && typeof value !== 'boolean') {
    if (value === 'true' || value === 'false')
      push('warning', `is a boolean option but is given the string ${shownText(value)}; ${passes} either way, so it works: write ${value}, without quotes`);
    else if (value === null)
      push('warning', `is a boolean option but is given null; ${passes}${fallback}: write true or false, or leave the option out for its default`);
    else push('warning', `is a boolean option but is given ${describe(value)}; ${passes}, which is neither true nor false: write true or false`);
  } else if (type === 'string' && typeof value !== 'string') {
    if (value === null) push('warning', `is a string option but is given null; ${passes}${fallback}: write a string, or leave the option out for its default`);
    else if (Array.isArray(value))
      push('warning', `is a string option but is given an array; ${passes} (its items joined with commas): write one string, e.g. ${shownText(text.text)}`);
    else {
      const zeros = typeof value === 'number' && !Number.isInteger(value) ? ' (a JSON number keeps no trailing zeros: 3.10 is passed as "3.1")' : '';
      push('warning', `is a string option but is given ${describe(value)}; ${passes}${zeros}: write ${shownText(text.text)}, in quotes`);
    }
  }
  const values = target?.enum;
  if (type === 'string' && values && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && !values.includes(text.text)) {
    const meant = suggestion(text.text, values.slice(0, MAX_SUGGESTION_CANDIDATES));
    push(
      'warning',
      `is ${shownText(text.text)}, which is not one of the values the option allows (${listed(values.slice(0, MAX_LISTED_OPTION_NAMES + 1).map(shownText), values.length)}); the devcontainer CLI passes it on all the same, and install.sh may fail or ignore it: ` +
        (meant ? `did you mean ${shownText(meant)}?` : 'write one of them'),
    );
  }
  const effect = optionTextInEnvFile(text.text);
  if (effect === 'unterminated') {
    push(
      'error',
      `is ${shownText(text.text)}, which holds an unbalanced " or a trailing \\: the devcontainer CLI writes it unescaped into devcontainer-features.env as ${truncated(featureOptionVariable(option ?? 'version'))}="…", and sh fails on that line ("Unterminated quoted string") before install.sh runs: remove the quote or backslash`,
    );
  } else if (effect === 'interpreted') {
    const found = [...new Set(text.text.replace(DEVCONTAINER_VARIABLE, '').match(/["\\`$]/g))].join(' ');
    push(
      'warning',
      `is ${shownText(text.text)}, which holds ${found}: the devcontainer CLI writes it unescaped between double quotes into devcontainer-features.env, which sh sources, so install.sh may see another value (or a command in it runs): remove these characters`,
    );
  }
}

type Rendered = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'object' } | { readonly kind: 'too-deep' };

/** The text the CLI writes for a value (it puts the value into a template string): `String(value)`, arrays joined with commas (null items empty); objects make it throw. */
function rendered(value: unknown, depth = 0): Rendered {
  if (Array.isArray(value)) {
    if (depth >= MAX_VALUE_DEPTH) return { kind: 'too-deep' };
    const parts: string[] = [];
    for (const item of value) {
      if (item === null || item === undefined) {
        parts.push('');
        continue;
      }
      const part = rendered(item, depth + 1);
      if (part.kind !== 'text') return part;
      parts.push(part.text);
    }
    return { kind: 'text', text: parts.join(',') };
  }
  if (typeof value === 'object' && value !== null) return { kind: 'object' };
  return { kind: 'text', text: String(value) };
}

/** The nearest of `candidates` to `id` when it looks like a typo of it (case ignored; one edit for short names, two from six characters), else undefined. */
function suggestion(id: string, candidates: readonly string[]): string | undefined {
  const wanted = id.trim().toLowerCase();
  if (wanted.length > MAX_SUGGESTION_ID_CHARS) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.length > MAX_SUGGESTION_ID_CHARS) continue;
    const shorter = Math.min(wanted.length, candidate.length);
    const allowed = shorter >= 6 ? 2 : shorter >= 3 ? 1 : 0;
    if (Math.abs(wanted.length - candidate.length) > allowed) continue;
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edits (insert, delete, replace, swap of neighbours) between two short strings. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/** `(its options: a, b)`, `(it has no options)`, at most {@link MAX_LISTED_OPTION_NAMES} names. */
function optionList(declared: ReadonlyMap<string, Declared>): string {
  return declared.size === 0
    ? '(it has no options)'
    : `(its options: ${listed(
        [...declared.keys()].slice(0, MAX_LISTED_OPTION_NAMES + 1).map((id) => truncated(id)),
        declared.size,
      )})`;
}

/** Names joined with commas, cut after {@link MAX_LISTED_OPTION_NAMES} with a count of the rest. */
function listed(names: readonly string[], total = names.length): string {
  if (total <= MAX_LISTED_OPTION_NAMES) return names.join(', ');
  return `${names.slice(0, MAX_LISTED_OPTION_NAMES).join(', ')}, … and ${total - MAX_LISTED_OPTION_NAMES} more`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${shownText(value)}`;
  return `the ${typeof value} ${shown(value)}`;
}

/** A JSON value as devcontainer.json would write it, cut to {@link MAX_SHOWN_OPTION_CHARS}. */
function shown(value: unknown): string {
  return typeof value === 'string' ? shownText(value) : truncated(JSON.stringify(value) ?? String(value));
}

/** A text in double quotes with JSON escapes, cut to {@link MAX_SHOWN_OPTION_CHARS}. */
function shownText(text: string): string {
  const cut = truncated(text);
  return cut === text ? JSON.stringify(text) : `${JSON.stringify(cut.slice(0, -1))}…`;
}

function quote(id: string): string {
  return shownText(id);
}

function truncated(text: string): string {
  if (text.length <= MAX_SHOWN_OPTION_CHARS) return text;
  const end = /[\uD800-\uDBFF]/.test(text[MAX_SHOWN_OPTION_CHARS - 1]) ? MAX_SHOWN_OPTION_CHARS - 1 : MAX_SHOWN_OPTION_CHARS;
  return `${text.slice(0, end)}…`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ownValue(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}
