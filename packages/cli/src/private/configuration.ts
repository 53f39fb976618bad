/**
 * Loads a configuration folder the way validate, pack and push all see it:
 * which kind it is, which id it is uploaded as, its files (collected safely) and
 * every problem with them.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, posix, relative, sep } from 'node:path';
import {
  InvalidConfigurationError,
  checkImageFiles,
  collectFiles,
  idProblem,
  validateFeatureFiles,
  formatProblem,
  type ArchiveContent,
  type ArtifactKind,
  type ConfigProblem,
  type ConfigurationInput,
} from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import type { Output } from './output';

export interface LoadOptions {
  /** @default - `feature` when the folder has devcontainer-feature.json at its root, else `image` */
  readonly kind?: ArtifactKind;
  /** @default - the folder's name */
  readonly id?: string;
  /** @default DEFAULT_MAX_CONFIGURATION_SIZE (50 MiB) */
  readonly maxSize?: number;
}

export interface LoadedConfiguration {
  /** Absolute path of the folder. */
  readonly dir: string;
  /** The folder as the user wrote it, for messages. */
  readonly shownDir: string;
  readonly kind: ArtifactKind;
  readonly id: string;
  /** The files; empty when collecting them failed (see `problems`). */
  readonly content: ArchiveContent;
  /** Total bytes of the files. */
  readonly size: number;
  /** Unsafe entries, or validation problems of the content. */
  readonly problems: readonly ConfigProblem[];
  /** For a valid image: the inputs its build would record, as Prepare reads them. */
  readonly inputs: readonly ConfigurationInput[];
  /** What the devcontainer CLI tolerates but is likely a mistake (options of a local feature its definition does not declare, …). */
  readonly warnings: readonly ConfigProblem[];
}

/** `feature` when the folder holds devcontainer-feature.json at its root. */
export function inferKind(dir: string): ArtifactKind {
  return existsSync(join(dir, 'devcontainer-feature.json')) ? 'feature' : 'image';
}

/**
 * @param dir absolute path of the folder
 * @param shown the folder as the user wrote it, for messages
 */
export async function loadConfiguration(dir: string, shown: string, options: LoadOptions = {}): Promise<LoadedConfiguration> {
  if (!existsSync(dir))
    throw new DcfError(
      `the folder '${shown}' does not exist: pass the folder that holds the configuration (dcf init image|feature <dir> writes one)`,
      ExitCode.Usage,
    );
  if (!statSync(dir).isDirectory()) throw new DcfError(`'${shown}' is a file: pass the folder that holds the configuration`, ExitCode.Usage);
  const kind = options.kind ?? inferKind(dir);
  const id = options.id ?? basename(dir);
  const problem = idProblem(id, `${kind} id`);
  if (problem) {
    throw new DcfError(
      options.id ? `${problem}; pass a valid --id` : `${problem} (taken from the folder name): rename the folder or pass --id`,
      ExitCode.Usage,
    );
  }

  let content: ArchiveContent;
  try {
    content = await collectFiles(dir, { maxSize: options.maxSize });
  } catch (e) {
    const problems = e instanceof InvalidConfigurationError ? e.problems : readProblem(e, dir);
    if (problems) return { dir, shownDir: shown, kind, id, content: { files: new Map(), executables: new Set() }, size: 0, problems, inputs: [], warnings: [] };
    throw e;
  }
  const { problems, inputs, warnings } =
    kind === 'image' ? checkImageFiles(content.files) : { problems: validateFeatureFiles(content.files, { expectedId: id }), inputs: [], warnings: [] };
  let size = 0;
  for (const bytes of content.files.values()) size += bytes.length;
  return { dir, shownDir: shown, kind, id, content, size, problems, inputs, warnings };
}

/**
 * A file system error met while reading the folder (a name that is not UTF-8,
 * a file that cannot be read or vanished, one over 2 GiB) as a problem of the
 * configuration; undefined for anything else.
 */
function readProblem(e: unknown, dir: string): ConfigProblem[] | undefined {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ERR_FS_FILE_TOO_LARGE') {
    return [{ file: '.', message: 'holds a file over 2 GiB, more than dcf can read: leave large files out (add them to .gitignore)' }];
  }
  if (typeof err?.code !== 'string' || typeof err.path !== 'string') return undefined;
  const rel = relative(dir, err.path);
  const file = rel === '' || rel.startsWith('..') || isAbsolute(rel) ? '.' : rel.split(sep).join('/');
  if (err.path.includes('\uFFFD')) {
    return [{ file, message: 'the file name is not valid UTF-8, so it cannot be read or stored in the zip: rename it (ls -b shows the bytes)' }];
  }
  const why: Record<string, string> = {
    EACCES: 'cannot be read (permission denied): fix its permissions or leave it out (.gitignore)',
    EPERM: 'cannot be read (operation not permitted): fix its permissions or leave it out (.gitignore)',
    ENOENT: 'disappeared while it was being read: run again when nothing else changes the folder',
    EISDIR: 'is a folder where a file was expected: run again when nothing else changes the folder',
    ELOOP: 'is a symlink loop: remove it',
    EIO: 'cannot be read (I/O error): check the disk',
  };
  return [{ file, message: why[err.code] ?? `cannot be read (${err.code}): fix it or leave it out (.gitignore)` }];
}

/** Prints the problems of a configuration (as JSON with --json) and returns the exit code for them. */
export function reportProblems(out: Output, config: LoadedConfiguration, consequence: string, to: 'stdout' | 'stderr'): number {
  if (out.json) {
    out.data({ kind: config.kind, id: config.id, valid: false, problems: config.problems });
    return ExitCode.ValidationFailed;
  }
  const stream = to === 'stdout' ? out.stdout : out.stderr;
  const s = to === 'stdout' ? out.style : out.errStyle;
  const count = `${config.problems.length} problem${config.problems.length === 1 ? '' : 's'}`;
  stream.write(`${s.red('✖')} ${config.kind} ${s.bold(config.id)} has ${count}${consequence ? `; ${consequence}` : ''}:\n`);
  for (const p of config.problems) {
    const file = p.file === '.' ? config.shownDir : posix.join(config.shownDir, p.file);
    const where = formatProblem({ ...p, file, message: '' }).slice(0, -2);
    stream.write(`  ${s.bold(where)}: ${p.message}\n`);
  }
  return ExitCode.ValidationFailed;
}
