/**
 * What a feature holds, in the form the version guard compares: each file's bytes
 * and whether it is executable. The devcontainer CLI's feature tarball is not
 * byte-reproducible (it stamps the packaging time on every entry), so two
 * packagings of the same feature differ in digest but not in content.
 */
import type { ArchiveContent } from '../archive/archive-content';
import type { ArchiveLimits } from '../archive/archive-limits';
import { pathClashProblems } from '../archive/path-clash';
import { displayPath, pathProblem } from '../archive/safe-path';
import { readTar, TarFormatError } from './private/tar';
import { FactoryError } from '../factory-error';

/** One file of a feature. */
export interface FeatureFile {
  readonly data: Uint8Array;
  /** Whether any execute bit is set (the other permission bits depend on the packager's umask). */
  readonly executable: boolean;
  /** Target, when the entry is a symbolic link. */
  readonly linkTarget?: string;
}

/** The files of a feature, keyed by POSIX path relative to the feature's root (`install.sh`). */
export type FeatureContent = ReadonlyMap<string, FeatureFile>;

/** Thrown when a feature artifact cannot be read. */
export class FeatureArtifactError extends FactoryError {}

/**
 * The content of a feature tarball (`devcontainer-feature-<id>.tgz`, gzipped or not), as the CLI packages and publishes it.
 * @param limits how far the tarball may expand (defaults as for a configuration zip: 50 MiB, 10,000 entries)
 * @throws FeatureArtifactError when it cannot be read, goes past a limit, or holds an unsafe or duplicate path,
 * or two paths that are one file on some file system (see {@link pathClashProblems})
 */
export function featureContentFromTar(bytes: Uint8Array, where = 'the feature tarball', limits: ArchiveLimits = {}): FeatureContent {
  let entries;
  try {
    entries = readTar(bytes, limits);
  } catch (cause) {
    throw new FeatureArtifactError(`${where} cannot be read: ${cause instanceof TarFormatError ? cause.message : String(cause)}`, { cause });
  }
  const content = new Map<string, FeatureFile>();
  const folders: string[] = [];
  for (const entry of entries) {
    const path = entry.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (path === '' || path === '.') continue;
    const problem = pathProblem(path);
    if (problem) throw new FeatureArtifactError(`${where} holds an unsafe path '${displayPath(entry.path)}': ${problem}`);
    if (entry.type === 'directory') folders.push(path);
    if (entry.type === 'directory' || entry.type === 'other') continue;
    if (content.has(path))
      throw new FeatureArtifactError(`${where} holds '${path}' more than once: tar tools keep the last, so it is refused; package the feature again`);
    content.set(path, {
      data: entry.data,
      executable: (entry.mode & 0o111) !== 0,
      ...(entry.type === 'symlink' ? { linkTarget: entry.linkName } : {}),
    });
  }
  const [clash] = pathClashProblems([...[...content.keys()].map((path) => ({ path })), ...folders.map((path) => ({ path, folder: true }))], 'in the tarball');
  if (clash) throw new FeatureArtifactError(`${where} holds '${clash.file}', which ${clash.message}; package the feature again`);
  return content;
}

/** The content of a feature's files as they are laid out for packaging. */
export function featureContentFromArchive(archive: ArchiveContent): FeatureContent {
  return new Map([...archive.files].map(([path, data]) => [path, { data, executable: archive.executables.has(path) }]));
}

/**
 * How `next` differs from `published`, one line per file: changed bytes, a changed
 * execute bit, files added or removed. Empty when the content is the same.
 */
export function featureContentDifferences(published: FeatureContent, next: FeatureContent): string[] {
  const differences: string[] = [];
  const paths = [...new Set([...published.keys(), ...next.keys()])].sort();
  for (const path of paths) {
    const a = published.get(path);
    const b = next.get(path);
    if (!a) differences.push(`${path}: added`);
    else if (!b) differences.push(`${path}: removed`);
    else if (a.linkTarget !== b.linkTarget) differences.push(`${path}: link target changed`);
    else if (!Buffer.from(a.data).equals(Buffer.from(b.data))) differences.push(`${path}: content changed`);
    else if (a.executable !== b.executable) differences.push(`${path}: ${b.executable ? 'now executable' : 'no longer executable'}`);
  }
  return differences;
}
