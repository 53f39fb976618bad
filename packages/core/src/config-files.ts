import { FactoryError } from './factory-error';

/**
 * A configuration as a set of files: POSIX relative paths (no leading `./`) to
 * bytes. The CLI reads one from a folder, the Lambdas and CodeBuild tools from a
 * zip, and every validation works on it, so the rules are the same everywhere.
 */
export type FileSet = ReadonlyMap<string, Uint8Array>;

/** One problem with a configuration, precise enough to fix without guessing. */
export interface ConfigProblem {
  /** Path of the file inside the configuration, e.g. `.devcontainer/devcontainer.json`. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** 1-based column, when known. */
  readonly column?: number;
  /** What is wrong and what to change. */
  readonly message: string;
}

/** `file:line:column: message`, the form editors and terminals link. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line ? `${p.file}:${p.line}${p.column ? `:${p.column}` : ''}` : p.file;
  return `${where}: ${p.message}`;
}

/** Thrown when a configuration has problems; `problems` lists each. */
export class InvalidConfigurationError extends FactoryError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(
      `the configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
      options,
    );
    this.problems = problems;
  }
}

/** The folder of a path in a configuration (`''` at its root): `.devcontainer/devcontainer.json` → `.devcontainer`. */
export function folderOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

/** `a/b/../c` → `a/c`, relative to `base`; undefined when the path leaves the root or is absolute. */
export function resolveInside(base: string, relative: string): string | undefined {
  if (relative.startsWith('/') || /^[a-zA-Z]:/.test(relative) || relative.includes('\\')) return undefined;
  const out: string[] = base ? base.split('/') : [];
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(segment);
    }
  }
  return out.join('/');
}
