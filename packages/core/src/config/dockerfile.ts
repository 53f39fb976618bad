/**
 * What the factory reads of a Dockerfile: the images its `FROM`s start from, with the
 * global `ARG`s (those before the first `FROM`) expanded as BuildKit expands them.
 * Prepare puts those images into the build id; `dcf validate` reads the file the same
 * way, so that what Prepare would refuse is refused before it is uploaded.
 *
 * Reading is bounded whatever the file: an `ARG` that refers to earlier `ARG`s can
 * double with each line (`ARG B=$A$A`), so 30 lines would expand to gigabytes. Every
 * expanded value is held to {@link MAX_DOCKERFILE_VALUE_LENGTH} while it is built, and
 * the whole file to {@link MAX_DOCKERFILE_SUBSTITUTIONS}, so that reading one costs at
 * most their product in characters, and a file past either is refused with its line.
 */
import type { ConfigProblem } from './files';

/**
 * Longest value, in characters, that a global `ARG` or a `FROM` reference may expand
 * to: 4096. A reference is at most a few hundred characters (a registry host, a
 * repository name of up to 255, a tag of up to 128, a digest of 71), and the other
 * values a global `ARG` usually holds (a version, a variant, a URL) are shorter still;
 * 4096 leaves room for all of them, and stops a doubling `ARG` after 12 levels.
 */
export const MAX_DOCKERFILE_VALUE_LENGTH = 4096;

/**
 * Most variable substitutions (`$NAME`, `${NAME}`, `${NAME:-default}`) the factory
 * makes in one Dockerfile's global `ARG`s and `FROM`s: 1024. Real Dockerfiles make a
 * few dozen; with {@link MAX_DOCKERFILE_VALUE_LENGTH} it bounds the work of reading one
 * file to 4 million characters.
 */
export const MAX_DOCKERFILE_SUBSTITUTIONS = 1024;

/** One instruction of a Dockerfile: its keyword in upper case, the rest, and the line it starts on (1-based). */
interface Instruction {
  readonly keyword: string;
  readonly rest: string;
  readonly line: number;
}

/** The Dockerfile's instructions: comment lines dropped, `\`-continued lines joined. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(whole);
    if (m) out.push({ keyword: m[1].toUpperCase(), rest: m[2], line: start });
  });
  return out;
}

/** Private signal: a limit was reached while expanding; the caller turns it into a problem with the line. */
class LimitSignal extends Error {
  constructor(readonly limit: 'length' | 'substitutions') {
    super(limit);
  }
}

/** Substitutions made so far in one file. */
interface Budget {
  substitutions: number;
}

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * `$NAME`, `${NAME}` and `${NAME:-default}` from `vars`; undefined names are left as they
 * are and reported in `missing`. The result is checked against the limits as it grows.
 * @throws LimitSignal past {@link MAX_DOCKERFILE_VALUE_LENGTH} or {@link MAX_DOCKERFILE_SUBSTITUTIONS}
 */
function expand(text: string, vars: Readonly<Record<string, string | undefined>>, missing: string[], budget: Budget): string {
  let out = '';
  let last = 0;
  const pattern = new RegExp(VARIABLE.source, 'g');
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (++budget.substitutions > MAX_DOCKERFILE_SUBSTITUTIONS) throw new LimitSignal('substitutions');
    const [whole, braced, fallback, bare] = m;
    const name = (braced ?? bare)!;
    const value = vars[name];
    let replacement: string;
    if (value !== undefined && value !== '') replacement = value;
    else if (fallback !== undefined) replacement = fallback;
    else if (value === '') replacement = '';
    else {
      missing.push(name);
      replacement = whole;
    }
    if (out.length + (m.index - last) + replacement.length > MAX_DOCKERFILE_VALUE_LENGTH) throw new LimitSignal('length');
    out += text.slice(last, m.index) + replacement;
    last = pattern.lastIndex;
  }
  if (out.length + (text.length - last) > MAX_DOCKERFILE_VALUE_LENGTH) throw new LimitSignal('length');
  return out + text.slice(last);
}

/** What a file past a limit is told: where, which limit and its value, and how to fix it. */
function limitProblem(file: string, line: number, what: string, limit: LimitSignal['limit']): ConfigProblem {
  const message =
    limit === 'length'
      ? `${what} expands to more than ${MAX_DOCKERFILE_VALUE_LENGTH} characters, the limit of a global ARG or FROM value (MAX_DOCKERFILE_VALUE_LENGTH): ` +
        'an image reference is a few hundred characters at most, so an ARG that repeats earlier ARGs is refused; ' +
        'write the value out, or declare a long ARG after the FROM of the stage that uses it (the factory reads only the ARGs before the first FROM)'
      : `${what} takes the file past ${MAX_DOCKERFILE_SUBSTITUTIONS} variable substitutions in its global ARGs and FROMs (MAX_DOCKERFILE_SUBSTITUTIONS): ` +
        'refer to fewer ARGs before the first FROM, or declare them after the FROM of the stage that uses them';
  return { file, line, message };
}

/**
 * The images a Dockerfile's `FROM`s start from: global `ARG`s (defaults, overridden by
 * the configuration's build args) expanded, earlier stages and `scratch` left out.
 * Every problem is added to `problems`; reading stops at the first limit reached.
 * @param file the Dockerfile's path in the configuration, for problems
 */
export function dockerfileBases(text: string, buildArgs: Readonly<Record<string, string>>, file: string, problems: ConfigProblem[]): string[] {
  const globals: Record<string, string | undefined> = {};
  const stages = new Set<string>();
  const bases: string[] = [];
  const budget: Budget = { substitutions: 0 };
  let seenFrom = false;
  for (const { keyword, rest, line } of instructions(text)) {
    if (keyword === 'ARG' && !seenFrom) {
      for (const decl of rest.split(/\s+/).filter(Boolean)) {
        const eq = decl.indexOf('=');
        const name = eq < 0 ? decl : decl.slice(0, eq);
        const fallback = eq < 0 ? undefined : decl.slice(eq + 1).replace(/^"(.*)"$|^'(.*)'$/, '$1$2');
        try {
          globals[name] = buildArgs[name] ?? (fallback === undefined ? undefined : expand(fallback, globals, [], budget));
        } catch (signal) {
          if (!(signal instanceof LimitSignal)) throw signal;
          problems.push(limitProblem(file, line, `ARG ${name}`, signal.limit));
          return bases;
        }
      }
      continue;
    }
    if (keyword !== 'FROM') continue;
    seenFrom = true;
    const tokens = rest.split(/\s+/).filter((t) => !t.startsWith('--'));
    if (tokens.length === 0) continue;
    const missing: string[] = [];
    let image: string;
    try {
      image = expand(tokens[0], globals, missing, budget);
    } catch (signal) {
      if (!(signal instanceof LimitSignal)) throw signal;
      problems.push(limitProblem(file, line, `FROM ${tokens[0].length > 80 ? `${tokens[0].slice(0, 80)}…` : tokens[0]}`, signal.limit));
      return bases;
    }
    if (missing.length) {
      problems.push({ file, line, message: `FROM ${tokens[0]} uses $${missing[0]}, which has no value when the build starts: give the ARG a default or set it in build.args of devcontainer.json` });
      continue;
    }
    const alias = tokens.length >= 3 && tokens[1].toUpperCase() === 'AS' ? tokens[2].toLowerCase() : undefined;
    if (image.toLowerCase() !== 'scratch' && !stages.has(image.toLowerCase())) bases.push(image);
    if (alias) stages.add(alias);
  }
  return bases;
}
