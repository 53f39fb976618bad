/**
 * The devcontainer CLI's feature lockfile: `devcontainer-lock.json` beside
 * `devcontainer.json` (`.devcontainer-lock.json` beside `.devcontainer.json`). The CLI
 * writes it (`devcontainer upgrade`, or any build once the file exists) and, by default,
 * installs the digest it locks for each feature rather than the one its tag names now.
 * So when a configuration has a lockfile, the locked digest is the feature's input: a
 * moved tag changes nothing the build installs.
 *
 * One entry per feature the CLI installs, keyed by the reference as `devcontainer.json`
 * writes it (and by the reference of each feature another one depends on):
 *
 * ```json
 * { "features": { "ghcr.io/devcontainers/features/node:1": {
 *     "version": "1.6.2",
 *     "resolved": "ghcr.io/devcontainers/features/node@sha256:…",
 *     "integrity": "sha256:…",
 *     "dependsOn": ["ghcr.io/devcontainers/features/common-utils"] } } }
 * ```
 */
import { isDigest } from '../oci/names';
import { parseImageReference } from '../oci/image-reference';
import { folderOf, type ConfigProblem } from '../config-files';

/** What the lockfile says of one feature. */
export interface LockedFeature {
  /** The feature's version when it was locked, e.g. `1.6.2`. */
  readonly version?: string;
  /** `<registry>/<path>@sha256:…`: the manifest the CLI installs. */
  readonly resolved: string;
  /** The digest of `resolved`. */
  readonly digest: string;
  /** Features this one depends on (`dependsOn`), by their references. */
  readonly dependsOn: readonly string[];
  /** 1-based line of the entry in the lockfile. */
  readonly line?: number;
}

/** A configuration's lockfile, read. */
export interface FeatureLockfile {
  /** Its path in the configuration. */
  readonly path: string;
  /** Each locked feature by the reference that keys it. */
  readonly features: ReadonlyMap<string, LockedFeature>;
}

/** Most entries one lockfile may hold (a configuration has at most `MAX_BUILD_INPUTS` inputs; dependencies add some). */
export const MAX_LOCKFILE_ENTRIES = 256;

/** Where the CLI reads the lockfile of the configuration at `configPath`: `devcontainer-lock.json`, dotted when the configuration is. */
export function lockfilePath(configPath: string): string {
  const dir = folderOf(configPath);
  const name = configPath.slice(dir ? dir.length + 1 : 0).startsWith('.') ? '.devcontainer-lock.json' : 'devcontainer-lock.json';
  return dir ? `${dir}/${name}` : name;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The 1-based line of `"key":` (an object key, not a mention in a list) in `text`: the first, when there is one. */
function keyLine(text: string, key: string): number | undefined {
  const at = new RegExp(`${JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`).exec(text)?.index;
  return at === undefined ? undefined : text.slice(0, at).split('\n').length;
}

/**
 * Reads a lockfile. An empty file is no lock (the CLI then writes one on the next build).
 * Every problem is added to `problems`, naming the entry and what to do; what can be read
 * is returned.
 * @returns undefined when the file is empty or cannot be read at all
 */
export function parseLockfile(text: string, path: string, problems: ConfigProblem[]): FeatureLockfile | undefined {
  if (text.trim() === '') return undefined;
  const regenerate = 'run `devcontainer upgrade --workspace-folder .` to write it again, or delete it to build with the features their tags name';
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    problems.push({ file: path, message: `is not JSON (${(cause as Error).message}): ${regenerate}` });
    return undefined;
  }
  if (!isObject(json) || (json.features !== undefined && !isObject(json.features))) {
    problems.push({ file: path, message: `is not a devcontainer lockfile ({ "features": { … } }): ${regenerate}` });
    return undefined;
  }
  const entries = Object.entries(isObject(json.features) ? json.features : {});
  if (entries.length > MAX_LOCKFILE_ENTRIES) {
    problems.push({ file: path, message: `locks ${entries.length} features; the factory reads at most ${MAX_LOCKFILE_ENTRIES} (MAX_LOCKFILE_ENTRIES)` });
    return undefined;
  }
  const features = new Map<string, LockedFeature>();
  for (const [reference, entry] of entries) {
    const line = keyLine(text, reference);
    const fail = (message: string) =>
      problems.push({ file: path, ...(line !== undefined && { line }), message: `the entry of "${reference}" ${message}: ${regenerate}` });
    if (!isObject(entry)) {
      fail('is not an object');
      continue;
    }
    const { resolved, integrity, version, dependsOn } = entry;
    const at = typeof resolved === 'string' ? resolved.lastIndexOf('@') : -1;
    const parsed = typeof resolved === 'string' ? parseImageReference(resolved) : undefined;
    if (typeof resolved !== 'string' || at < 0 || !parsed?.digest) {
      fail(
        `has no "resolved" <registry>/<path>@sha256:… (got ${JSON.stringify(resolved)}); a feature from a tarball URL is pinned by its URL and has no place here`,
      );
      continue;
    }
    if (integrity !== undefined && (typeof integrity !== 'string' || !isDigest(integrity) || integrity !== parsed.digest)) {
      fail(`has an "integrity" (${JSON.stringify(integrity)}) that is not the digest of its "resolved" (${parsed.digest})`);
      continue;
    }
    if (dependsOn !== undefined && !(Array.isArray(dependsOn) && dependsOn.every((d) => typeof d === 'string'))) {
      fail('has a "dependsOn" that is not a list of feature references');
      continue;
    }
    features.set(reference, {
      ...(typeof version === 'string' && { version }),
      resolved,
      digest: parsed.digest,
      dependsOn: (dependsOn as string[] | undefined) ?? [],
      ...(line !== undefined && { line }),
    });
  }
  return { path, features };
}
