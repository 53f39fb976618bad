/**
 * Loads a configuration folder the way validate, pack and push all see it:
 * which kind it is, which id it is uploaded as, its files (collected safely) and
 * every problem with them.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import {
  InvalidConfigurationError,
  collectFiles,
  idProblem,
  validateFeatureFiles,
  formatProblem,
  validateImageFiles,
  type ArchiveContent,
  type ArtifactKind,
  type ConfigProblem,
} from '@devcontainer-factory/lambdas';
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
  if (!existsSync(dir)) throw new DcfError(`the folder '${shown}' does not exist: pass the folder that holds the configuration (dcf init image|feature <dir> writes one)`, ExitCode.Usage);
  if (!statSync(dir).isDirectory()) throw new DcfError(`'${shown}' is a file: pass the folder that holds the configuration`, ExitCode.Usage);
  const kind = options.kind ?? inferKind(dir);
  const id = options.id ?? basename(dir);
  const problem = idProblem(id, `${kind} id`);
  if (problem) {
    throw new DcfError(options.id ? `${problem}; pass a valid --id` : `${problem} (taken from the folder name): rename the folder or pass --id`, ExitCode.Usage);
  }

  let content: ArchiveContent;
  try {
    content = await collectFiles(dir, { maxSize: options.maxSize });
  } catch (e) {
    if (e instanceof InvalidConfigurationError) return { dir, shownDir: shown, kind, id, content: { files: new Map(), executables: new Set() }, size: 0, problems: e.problems };
    throw e;
  }
  const problems = kind === 'image' ? validateImageFiles(content.files) : validateFeatureFiles(content.files, { expectedId: id });
  let size = 0;
  for (const bytes of content.files.values()) size += bytes.length;
  return { dir, shownDir: shown, kind, id, content, size, problems };
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
