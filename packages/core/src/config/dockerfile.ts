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
import type { ConfigProblem } from '../config-files';

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

/** The parser directives at the top of a Dockerfile that the factory reads. */
interface Directives {
  /** `# syntax=<image>`: the frontend BuildKit pulls to read the file. */
  readonly syntax?: { readonly value: string; readonly line: number };
  /** `# escape=`: the line-continuation character, `\` unless set to `` ` ``. */
  readonly escape: string;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(\S.*?)\s*$/;
/** `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in an instruction: a heredoc whose body follows. */
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
/** The instructions that take heredocs. */
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

/**
 * The parser directives: the `# key=value` lines at the very top. Once a blank line, an
 * instruction or any other comment is read, BuildKit looks for no more of them.
 */
function directives(lines: readonly string[]): Directives {
  let syntax: Directives['syntax'];
  let escape = '\\';
  for (let i = 0; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i].trim());
    if (!m) break;
    const key = m[1].toLowerCase();
    if (key === 'syntax') syntax = { value: m[2], line: i + 1 };
    else if (key === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
  }
  return { ...(syntax && { syntax }), escape };
}

/**
 * The Dockerfile's instructions: comment lines dropped, continued lines joined (with the
 * `# escape=` character), heredoc bodies skipped (a body line that starts with `FROM` is
 * text, not an instruction).
 */
function instructions(text: string): { directives: Directives; instructions: Instruction[] } {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  const found = directives(lines);
  let pending = '';
  let start = 0;
  const heredocs: { word: string; strip: boolean }[] = [];
  lines.forEach((raw, i) => {
    if (heredocs.length) {
      const { word, strip } = heredocs[0];
      if ((strip ? raw.replace(/^\t+/, '') : raw) === word) heredocs.shift();
      return;
    }
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith(found.escape)) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(whole);
    if (!m) return;
    const keyword = m[1].toUpperCase();
    out.push({ keyword, rest: m[2], line: start });
    if (HEREDOC_KEYWORDS.has(keyword)) {
      for (const h of m[2].matchAll(HEREDOC)) heredocs.push({ word: h[3], strip: h[1] === '-' });
    }
  });
  return { directives: found, instructions: out };
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

/** What a Dockerfile makes BuildKit pull: `base` for an image a needed stage starts from or copies from, `frontend` for the `# syntax=` image. */
export type DockerfileInputKind = 'base' | 'frontend';

/** An image a Dockerfile's build pulls. */
export interface DockerfileInput {
  readonly kind: DockerfileInputKind;
  /** As written in the file, e.g. `python:${PY}`. */
  readonly written: string;
  /** After the global `ARG`s and build args are substituted, e.g. `python:3.12`. */
  readonly reference: string;
  /** 1-based line of the instruction or directive. */
  readonly line: number;
}

export interface DockerfileOptions {
  /** The configuration's build args, over the `ARG` defaults. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The stage to build (`build.target`); default: the last one, as BuildKit builds. */
  readonly target?: string;
}

/** One stage of the file: what it starts from and what else it reads. */
interface Stage {
  readonly name?: string;
  readonly line: number;
  /** The stage it starts from, or the image (undefined for `scratch`). */
  from: { readonly stage: number } | { readonly image: DockerfileInput } | undefined;
  /** Stages and images it copies or mounts from. */
  readonly uses: ({ readonly stage: number } | { readonly image: DockerfileInput })[];
}

/** `--from=x` of COPY and ADD, `from=x` of each `--mount=` of RUN. */
function sourcesOf(keyword: string, rest: string): string[] {
  const flags = rest.split(/\s+/).filter((t) => t.startsWith('--'));
  if (keyword === 'COPY' || keyword === 'ADD') return flags.filter((f) => f.startsWith('--from=')).map((f) => f.slice('--from='.length));
  if (keyword === 'RUN') {
    return flags
      .filter((f) => f.startsWith('--mount='))
      .flatMap((f) => f.slice('--mount='.length).split(','))
      .filter((kv) => kv.startsWith('from='))
      .map((kv) => kv.slice('from='.length));
  }
  return [];
}

/**
 * The images a BuildKit build of the Dockerfile pulls: the `# syntax=` frontend, and for
 * the target stage (default the last) and every stage it needs (`FROM <stage>`,
 * `COPY --from`, `RUN --mount=from=`), the image it starts from and the images it copies
 * or mounts from. Global `ARG`s (defaults, overridden by the build args) are expanded;
 * stages the target does not need, `scratch` and stage names are not inputs.
 * Every problem is added to `problems`; reading stops at the first limit reached.
 * @param file the Dockerfile's path in the configuration, for problems
 */
export function dockerfileInputs(text: string, file: string, options: DockerfileOptions, problems: ConfigProblem[]): DockerfileInput[] {
  const buildArgs = options.buildArgs ?? {};
  const parsed = instructions(text);
  const globals: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  const budget: Budget = { substitutions: 0 };
  const stageIndex = (name: string): number | undefined => {
    if (/^\d+$/.test(name)) return Number(name) < stages.length ? Number(name) : undefined;
    const at = stages.findIndex((st) => st.name === name.toLowerCase());
    return at < 0 ? undefined : at;
  };
  /** A reference expanded with the global ARGs; undefined (with a problem) when it cannot be. */
  const reference = (written: string, line: number, what: string): string | undefined | 'limit' => {
    const missing: string[] = [];
    try {
      const out = expand(written, globals, missing, budget);
      if (missing.length) {
        problems.push({
          file,
          line,
          message: `${what} ${written} uses $${missing[0]}, which has no value when the build starts: give the ARG a default or set it in build.args of devcontainer.json`,
        });
        return undefined;
      }
      return out;
    } catch (signal) {
      if (!(signal instanceof LimitSignal)) throw signal;
      problems.push(limitProblem(file, line, `${what} ${written.length > 80 ? `${written.slice(0, 80)}…` : written}`, signal.limit));
      return 'limit';
    }
  };
  for (const { keyword, rest, line } of parsed.instructions) {
    if (keyword === 'ARG' && stages.length === 0) {
      for (const decl of rest.split(/\s+/).filter(Boolean)) {
        const eq = decl.indexOf('=');
        const name = eq < 0 ? decl : decl.slice(0, eq);
        const fallback = eq < 0 ? undefined : decl.slice(eq + 1).replace(/^"(.*)"$|^'(.*)'$/, '$1$2');
        try {
          globals[name] = buildArgs[name] ?? (fallback === undefined ? undefined : expand(fallback, globals, [], budget));
        } catch (signal) {
          if (!(signal instanceof LimitSignal)) throw signal;
          problems.push(limitProblem(file, line, `ARG ${name}`, signal.limit));
          return [];
        }
      }
      continue;
    }
    if (keyword === 'FROM') {
      const tokens = rest.split(/\s+/).filter((t) => t !== '' && !t.startsWith('--'));
      if (tokens.length === 0) continue;
      const name = tokens.length >= 3 && tokens[1].toUpperCase() === 'AS' ? tokens[2].toLowerCase() : undefined;
      const image = reference(tokens[0], line, 'FROM');
      if (image === 'limit') return [];
      const stage: Stage = { ...(name !== undefined && { name }), line, from: undefined, uses: [] };
      if (image !== undefined && image.toLowerCase() !== 'scratch') {
        const earlier = stages.findIndex((st) => st.name === image.toLowerCase());
        stage.from = earlier >= 0 ? { stage: earlier } : { image: { kind: 'base', written: tokens[0], reference: image, line } };
      }
      stages.push(stage);
      continue;
    }
    const current = stages.at(-1);
    if (!current) continue;
    for (const source of sourcesOf(keyword, rest)) {
      const earlier = stageIndex(source);
      if (earlier !== undefined) {
        current.uses.push({ stage: earlier });
        continue;
      }
      const image = reference(source, line, `${keyword} --from=`);
      if (image === 'limit') return [];
      if (image !== undefined) current.uses.push({ image: { kind: 'base', written: source, reference: image, line } });
    }
  }
  const inputs: DockerfileInput[] = [];
  if (parsed.directives.syntax) {
    const { value, line } = parsed.directives.syntax;
    inputs.push({ kind: 'frontend', written: value, reference: value, line });
  }
  if (stages.length === 0) return inputs;
  let target = stages.length - 1;
  if (options.target !== undefined) {
    const named = stages.findIndex((st) => st.name === options.target!.toLowerCase());
    if (named < 0) {
      const names = stages.map((st) => st.name).filter((n): n is string => n !== undefined);
      problems.push({
        file,
        message: `build.target "${options.target}" names no stage of ${file}: ${names.length ? `its stages are ${names.join(', ')}` : 'its stages have no names (FROM image AS name)'}`,
      });
      return inputs;
    }
    target = named;
  }
  // The stages the target needs, each once: BuildKit builds no other.
  const needed = new Set<number>();
  for (const pending = [target]; pending.length;) {
    const at = pending.pop()!;
    if (needed.has(at)) continue;
    needed.add(at);
    const stage = stages[at];
    for (const use of [...(stage.from ? [stage.from] : []), ...stage.uses]) {
      if ('stage' in use) pending.push(use.stage);
      else inputs.push(use.image);
    }
  }
  return inputs.sort((a, b) => a.line - b.line);
}

/**
 * The images a Dockerfile's build starts from ({@link dockerfileInputs} of kind `base`).
 * @param file the Dockerfile's path in the configuration, for problems
 */
export function dockerfileBases(text: string, buildArgs: Readonly<Record<string, string>>, file: string, problems: ConfigProblem[]): string[] {
  return dockerfileInputs(text, file, { buildArgs }, problems)
    .filter((i) => i.kind === 'base')
    .map((i) => i.reference);
}
