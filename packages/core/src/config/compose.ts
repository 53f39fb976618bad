/**
 * What the factory reads of a Docker Compose configuration: the one service
 * `devcontainer build` builds (devcontainer.json's `service`), as compose merges it from
 * the `dockerComposeFile` list, with its values interpolated as compose does. Its `image`,
 * or for a `build:` the Dockerfile it names, is what the image is made of; the other
 * services (a `db: postgres` sidecar) run beside the dev container and are not.
 *
 * - Several files merge in order: a later file's `image` replaces an earlier one, its
 *   `build` mapping is merged into the earlier one (`build: ./dir` is the context).
 * - Relative paths are relative to the project directory, the folder of the first file.
 * - `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
 *   `${VAR:+alt}`, `${VAR+alt}` and `$$` are interpolated from the project's `.env` (a
 *   build has no shell environment of its own); a variable with no value is refused rather
 *   than replaced by an empty string, which is never what a reference means.
 */
import { LineCounter, isMap, isPair, isScalar, parseDocument, type Node } from 'yaml';
import { MAX_DOCKERFILE_VALUE_LENGTH } from './dockerfile';
import { folderOf, resolveInside, type ConfigProblem } from '../config-files';

/** A compose file of the configuration: its path in the zip and its text. */
export interface ComposeFile {
  readonly path: string;
  readonly text: string;
}

/** The image a service runs. */
export interface ComposeImage {
  /** As written, e.g. `postgres:${PG_VERSION:-16}`. */
  readonly written: string;
  /** Interpolated, e.g. `postgres:16`. */
  readonly reference: string;
  readonly file: string;
  readonly line?: number;
}

/** What a service builds from. */
export interface ComposeBuild {
  /** Zip path of the build context ('' for the zip's root). */
  readonly context: string;
  /** Zip path of the Dockerfile (the context's `Dockerfile` unless `build.dockerfile` says otherwise). */
  readonly dockerfile?: string;
  /** `build.dockerfile_inline`, when given (then there is no Dockerfile to read). */
  readonly dockerfileInline?: string;
  readonly args: Readonly<Record<string, string>>;
  readonly target?: string;
  /** Where `build:` is. */
  readonly file: string;
  readonly line?: number;
}

/** The dev container's service: its image, or what it builds from (a build wins, as compose builds it then). */
export interface ComposeService {
  readonly name: string;
  readonly image?: ComposeImage;
  readonly build?: ComposeBuild;
}

/** Most compose files one configuration may list. */
export const MAX_COMPOSE_FILES = 16;

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * The variables of a `.env` file as compose reads it: `KEY=VALUE` lines, `export ` before
 * the key allowed, `#` comments, values in single quotes taken as they are, in double
 * quotes with `\n` escapes, unquoted ones up to a ` #` comment.
 */
export function parseComposeEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (value.startsWith("'")) value = value.slice(1, value.indexOf("'", 1) < 0 ? undefined : value.indexOf("'", 1));
    else if (value.startsWith('"')) {
      const end = value.indexOf('"', 1);
      value = value
        .slice(1, end < 0 ? undefined : end)
        .replace(/\\n/g, '\n')
        .replace(/\\"/g, '"');
    } else value = value.replace(/\s+#.*$/, '').trim();
    env[m[1]] = value;
  }
  return env;
}

/**
 * `text` interpolated as compose does, from `env`.
 * @returns the value, or the problem (an unset variable without a default, a `?` error, a value past the limit)
 */
export function interpolateCompose(text: string, env: Readonly<Record<string, string>>): { value: string } | { problem: string } {
  let problem: string | undefined;
  const value = text.replace(VARIABLE, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    const set = Object.hasOwn(env, name);
    const value = set ? env[name] : undefined;
    const nested = (s: string) => {
      const inner = interpolateCompose(s, env);
      if ('problem' in inner) {
        problem ??= inner.problem;
        return '';
      }
      return inner.value;
    };
    switch (op) {
      case ':-':
        return value ? value : nested(arg ?? '');
      case '-':
        return set ? value! : nested(arg ?? '');
      case ':?':
      case '?':
        if (op === ':?' ? !value : !set) problem ??= `\${${name}} is required: ${arg || `set ${name}`}`;
        return value ?? '';
      case ':+':
        return value ? nested(arg ?? '') : '';
      case '+':
        return set ? nested(arg ?? '') : '';
      default:
        if (value === undefined || value === '')
          problem ??= `uses \${${name}}, which has no value when the build starts: give it a default (\${${name}:-…}) or set it in .env`;
        return value ?? '';
    }
  });
  if (problem) return { problem };
  if (value.length > MAX_DOCKERFILE_VALUE_LENGTH)
    return { problem: `interpolates to more than ${MAX_DOCKERFILE_VALUE_LENGTH} characters (MAX_DOCKERFILE_VALUE_LENGTH)` };
  return { value };
}

interface Located {
  readonly value: unknown;
  readonly file: string;
  readonly line?: number;
}

/** The service's mapping in one file, each key with its value and line. */
function serviceEntries(file: ComposeFile, service: string, problems: ConfigProblem[]): { services: string[]; entries?: Map<string, Located> } {
  const counter = new LineCounter();
  const doc = parseDocument(file.text, { merge: true, lineCounter: counter, prettyErrors: false });
  if (doc.errors.length) {
    problems.push({ file: file.path, message: `is not valid YAML: ${doc.errors[0].message.split('\n')[0]}` });
    return { services: [] };
  }
  const services = doc.get('services', true) as Node | undefined;
  if (!isMap(services)) return { services: [] };
  const names = services.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')).filter(Boolean);
  const node = services.get(service, true) as Node | undefined;
  if (!isMap(node)) return { services: names };
  const entries = new Map<string, Located>();
  const js = doc.toJS({ maxAliasCount: 100 }) as { services?: Record<string, Record<string, unknown>> };
  const value = js.services?.[service] ?? {};
  for (const [key, v] of Object.entries(value)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    entries.set(key, { value: v, file: file.path, ...(offset !== undefined && { line: counter.linePos(offset).line }) });
  }
  return { services: names, entries };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The service `service` as compose merges it from `files` (in order), interpolated with
 * `env`. Every problem is added to `problems`, with the file and line.
 * @returns undefined when the service cannot be read (see `problems`)
 */
export function composeService(
  files: readonly ComposeFile[],
  service: string,
  env: Readonly<Record<string, string>>,
  problems: ConfigProblem[],
): ComposeService | undefined {
  if (files.length === 0) return undefined;
  if (files.length > MAX_COMPOSE_FILES) {
    problems.push({
      file: files[0].path,
      message: `is one of ${files.length} compose files; the factory reads at most ${MAX_COMPOSE_FILES} (MAX_COMPOSE_FILES)`,
    });
    return undefined;
  }
  const before = problems.length;
  const all = new Set<string>();
  let image: Located | undefined;
  let build: { fields: Record<string, Located>; at: Located } | undefined;
  let found = false;
  for (const file of files) {
    const { services, entries } = serviceEntries(file, service, problems);
    for (const name of services) all.add(name);
    if (!entries) continue;
    found = true;
    const ext = entries.get('extends');
    if (ext)
      problems.push({
        file: ext.file,
        ...(ext.line !== undefined && { line: ext.line }),
        message: `service ${service} uses extends, which the factory does not read: write the service out in full (or in a second compose file, which is merged)`,
      });
    image = entries.get('image') ?? image;
    const b = entries.get('build');
    if (b) {
      const fields = typeof b.value === 'string' ? { context: b.value } : isObject(b.value) ? b.value : undefined;
      if (!fields) {
        problems.push({
          file: b.file,
          ...(b.line !== undefined && { line: b.line }),
          message: `the build of service ${service} must be a context path or a mapping (context, dockerfile, args, target)`,
        });
        continue;
      }
      const located = Object.fromEntries(
        Object.entries(fields).map(([k, v]) => [k, { value: v, file: b.file, ...(b.line !== undefined && { line: b.line }) }]),
      );
      build = { fields: { ...build?.fields, ...located }, at: b };
    }
  }
  if (!found) {
    problems.push({
      file: files[0].path,
      message: `"service": "${service}" is not a service of ${files.map((f) => f.path).join(', ')} (${all.size ? `its services: ${[...all].join(', ')}` : 'it has no services'}): name the service the dev container runs in`,
    });
    return undefined;
  }
  const where = (l: Located) => ({ file: l.file, ...(l.line !== undefined && { line: l.line }) });
  const text = (l: Located, what: string): string | undefined => {
    if (typeof l.value !== 'string' && typeof l.value !== 'number') {
      problems.push({ ...where(l), message: `${what} of service ${service} must be a string` });
      return undefined;
    }
    const out = interpolateCompose(String(l.value), env);
    if ('problem' in out) {
      problems.push({ ...where(l), message: `${what} of service ${service} "${l.value}" ${out.problem}` });
      return undefined;
    }
    return out.value;
  };
  const project = folderOf(files[0].path);
  if (build) {
    const f = build.fields;
    const contextText = f.context ? text(f.context, 'the build context') : '.';
    const context = contextText === undefined ? undefined : resolveInside(project, contextText);
    if (contextText !== undefined && context === undefined) {
      problems.push({
        ...where(build.at),
        message: `the build context "${contextText}" of service ${service} points outside the configuration folder: only this folder is uploaded, so use a context inside it`,
      });
    }
    const inline = f.dockerfile_inline ? text(f.dockerfile_inline, 'build.dockerfile_inline') : undefined;
    const dockerfileText = f.dockerfile ? text(f.dockerfile, 'build.dockerfile') : 'Dockerfile';
    const dockerfile = context === undefined || dockerfileText === undefined || inline !== undefined ? undefined : resolveInside(context, dockerfileText);
    if (context !== undefined && dockerfileText !== undefined && inline === undefined && dockerfile === undefined) {
      problems.push({
        ...where(build.at),
        message: `the Dockerfile "${dockerfileText}" of service ${service} points outside the configuration folder: only this folder is uploaded`,
      });
    }
    const args: Record<string, string> = {};
    const rawArgs = f.args?.value;
    const pairs: [string, unknown][] = Array.isArray(rawArgs)
      ? rawArgs.map((a) => String(a)).map((a) => (a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, env[a]]))
      : isObject(rawArgs)
        ? Object.entries(rawArgs)
        : [];
    for (const [name, value] of pairs) {
      if (value === undefined || value === null) continue;
      const v = text({ value, file: f.args!.file, ...(f.args!.line !== undefined && { line: f.args!.line }) }, `build arg ${name}`);
      if (v !== undefined) args[name] = v;
    }
    const target = f.target ? text(f.target, 'build.target') : undefined;
    if (problems.length > before || context === undefined) return undefined;
    return {
      name: service,
      build: {
        context,
        ...(dockerfile !== undefined && { dockerfile }),
        ...(inline !== undefined && { dockerfileInline: inline }),
        args,
        ...(target !== undefined && target !== '' && { target }),
        ...where(build.at),
      },
    };
  }
  if (image) {
    const reference = text(image, 'the image');
    if (reference === undefined || problems.length > before) return undefined;
    return { name: service, image: { written: String(image.value), reference, ...where(image) } };
  }
  problems.push({ file: files[0].path, message: `service ${service} has neither an image nor a build: give it one, the dev container runs in it` });
  return undefined;
}
