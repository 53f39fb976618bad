/**
 * What a configuration zip holds, and the one error every unsafe entry raises,
 * whether it comes from a folder on disk or from a zip.
 */
import { InvalidConfigurationError, type ConfigProblem, type FileSet } from '../config-files';

/** Largest configuration, in bytes of file content, that is packed or unpacked: 50 MiB. */
export const DEFAULT_MAX_CONFIGURATION_SIZE = 50 * 1024 * 1024;

/**
 * Largest configuration zip, in bytes of the zip itself: 50 MiB, the size limit of
 * `dcf push`. Prepare reads no larger source artifact, Manifest keeps no larger
 * configuration with a build, and `dcf fetch` downloads no larger one.
 */
export const MAX_SOURCE_ZIP_SIZE = 50 * 1024 * 1024;

/** The files of a configuration and which of them are executable (`install.sh`, `test.sh`). */
export interface ArchiveContent {
  readonly files: FileSet;
  /** Paths (keys of `files`) that carry the executable bit: packed as 0755, the others as 0644. */
  readonly executables: ReadonlySet<string>;
}

/**
 * Thrown when a folder or a zip holds something that must not be packed or
 * unpacked: a path that escapes the root, a symlink to outside, a special file,
 * more content than the size limit. `problems` lists each entry.
 */
export class UnsafeArchiveError extends InvalidConfigurationError {
  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(problems, options);
  }
}

/** `12.3 MiB`, for size messages. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
