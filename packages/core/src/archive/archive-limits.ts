/**
 * How much an archive may expand to, whoever reads it: an uploaded
 * configuration zip, a feature tarball. Every limit is checked on the declared
 * sizes before anything is inflated and again, on the real bytes, while
 * inflating, so that a lying or hostile archive (a zip bomb) is refused after
 * at most the limit's worth of output, never by running out of memory.
 */
import { DEFAULT_MAX_CONFIGURATION_SIZE } from './archive-content';

/** Most files (and folders) an archive may hold: 10,000. */
export const DEFAULT_MAX_ARCHIVE_ENTRIES = 10_000;

/**
 * Largest ratio of an entry's inflated size to its compressed size: 200. Text
 * and code compress 3 to 20 times; only filler (a zip bomb) compresses 1,000 times.
 */
export const DEFAULT_MAX_COMPRESSION_RATIO = 200;

/** Entries (and gzip streams) that inflate to this size or less are not held to the ratio: 1 MiB. */
export const COMPRESSION_RATIO_FLOOR = 1024 * 1024;

/**
 * Longest name of one file or folder in an archive, in bytes of UTF-8: 255, the
 * `NAME_MAX` of Linux file systems (ext4, XFS, overlayfs) and of APFS. A longer name
 * cannot be created where the build extracts the archive (`ENAMETOOLONG`), so it is
 * refused when the archive is read, packed or written.
 */
export const MAX_ARCHIVE_NAME_BYTES = 255;

/**
 * Longest path of an entry in an archive, in bytes of UTF-8: 1024. Linux's `PATH_MAX`
 * (4096) counts the whole path, and the build extracts the archive under folders of its
 * own (CodeBuild's source folder, the devcontainer CLI's copies of the build context and
 * of features, a feature moved under `src/<id>/`): a quarter of it for the entry leaves
 * the rest for those prefixes. Real configurations stay far below it (their deepest
 * paths are a few hundred bytes; dependencies are left out by `.gitignore`), and it is
 * macOS's own `PATH_MAX`, past which a Mac could not hold the file at all.
 */
export const MAX_ARCHIVE_PATH_BYTES = 1024;

/** The limits of reading an archive; each is an option of the reader that applies it. */
export interface ArchiveLimits {
  /**
   * Largest total inflated size of the archive's files, in bytes.
   * @default DEFAULT_MAX_CONFIGURATION_SIZE (50 MiB)
   */
  readonly maxSize?: number;
  /**
   * Largest inflated size of one entry, in bytes.
   * @default - the value of `maxSize`
   */
  readonly maxEntrySize?: number;
  /**
   * Most entries (files, folders, links) the archive may hold.
   * @default DEFAULT_MAX_ARCHIVE_ENTRIES (10,000)
   */
  readonly maxEntries?: number;
  /**
   * Largest inflated-to-compressed size ratio of an entry that inflates to more
   * than {@link COMPRESSION_RATIO_FLOOR} (1 MiB).
   * @default DEFAULT_MAX_COMPRESSION_RATIO (200)
   */
  readonly maxCompressionRatio?: number;
}

/** {@link ArchiveLimits} with every default applied. */
export type ResolvedArchiveLimits = Required<ArchiveLimits>;

/**
 * The limits with their defaults.
 * @throws RangeError for a limit that is not a positive number
 */
export function resolveArchiveLimits(limits: ArchiveLimits = {}): ResolvedArchiveLimits {
  const maxSize = limits.maxSize ?? DEFAULT_MAX_CONFIGURATION_SIZE;
  const resolved = {
    maxSize,
    maxEntrySize: limits.maxEntrySize ?? maxSize,
    maxEntries: limits.maxEntries ?? DEFAULT_MAX_ARCHIVE_ENTRIES,
    maxCompressionRatio: limits.maxCompressionRatio ?? DEFAULT_MAX_COMPRESSION_RATIO,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!(value > 0)) throw new RangeError(`the archive limit ${name} must be a positive number (got ${value})`);
  }
  return resolved;
}
