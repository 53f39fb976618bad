import { archTag } from '../naming';
import { formatSemver, isSemver, parseSemver, semverTags } from '../semver';
import { SUPPORTED_PLATFORMS } from './platform';
import { Registry, RegistryError } from './registry';

/** Which release tags an image gets (per image, from the catalog). */
export interface ReleaseRules {
  /** Move `latest` (when a version is given: only when it is the newest release). */
  readonly latest: boolean;
  /** Tag `X.Y.Z`, and move `X.Y` and `X` when this is the newest of that line. Needs a version. */
  readonly semver: boolean;
  /**
   * Tag the UTC date of the release, `YYYYMMDD`, when it is the newest release (no
   * version, or a version newer than every released one): the last such release of a
   * day keeps it, and a back-port never takes it.
   */
  readonly date: boolean;
}

export interface ReleaseOptions {
  /** The build to release: its index is tag `<buildId>`. */
  readonly buildId: string;
  /**
   * The image's version, `customizations["devcontainer-factory"].version` of its devcontainer.json.
   * @default - no semver tags; `latest` (if the rules ask for it) always moves
   */
  readonly version?: string;
  readonly rules: ReleaseRules;
  /** The time of the release, for the date tag. */
  readonly now: Date;
}

/** What a release does, worked out before anything is written. */
export interface ReleasePlan {
  /** Digest of the `<buildId>` index, which every tag will point at. */
  readonly digest: string;
  /** Media type and exact bytes of the index, as put under each tag. */
  readonly mediaType: string;
  readonly body: Buffer;
  /** Every tag of the release, in the order they are put: `X.Y.Z`, `X.Y`, `X`, `latest`, date. */
  readonly tags: readonly string[];
  /** Tags to put: new, or pointing at another digest now. */
  readonly moved: readonly string[];
  /** Tags that already point at the digest. */
  readonly unchanged: readonly string[];
  /** Digest each moved tag pointed at before, for tags that existed. */
  readonly previous: Readonly<Record<string, string>>;
}

/**
 * What {@link releaseImage} did. Running the same release again gives the same
 * `digest` and `tags`; the second time every tag is in `unchanged`.
 */
export interface ReleaseResult {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly moved: readonly string[];
  readonly unchanged: readonly string[];
}

/** Thrown when a release cannot go ahead (missing build, bad version); nothing was tagged. */
export class ReleaseError extends RegistryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReleaseError';
  }
}

/** Thrown when `X.Y.Z` is already released as another image; nothing was tagged. */
export class VersionConflictError extends ReleaseError {
  constructor(
    /** The version, e.g. `1.2.3`. */
    readonly version: string,
    /** The digest `X.Y.Z` points at. */
    readonly releasedDigest: string,
    /** The digest of the build that was to be released. */
    readonly digest: string,
  ) {
    super(
      `${version} is already released as ${releasedDigest}; this build is ${digest}. ` +
        `A released version never moves: bump the version in customizations['devcontainer-factory'].version`,
    );
    this.name = 'VersionConflictError';
  }
}

/** The date tag of a release: `YYYYMMDD` in UTC. */
export function dateTag(now: Date): string {
  if (Number.isNaN(now.getTime())) throw new ReleaseError('the release time is not a valid date');
  return now.toISOString().slice(0, 10).replace(/-/g, '');
}

/**
 * Works out a release without writing anything: resolves the `<buildId>` index,
 * computes the tags from the rules and the versions already released, and reads
 * where each tag points now. Throws {@link VersionConflictError} when `X.Y.Z`
 * exists with another digest.
 */
export async function planRelease(registry: Registry, repository: string, options: ReleaseOptions): Promise<ReleasePlan> {
  const { buildId, version, rules, now } = options;
  if (version !== undefined && !isSemver(version)) {
    throw new ReleaseError(
      `version '${version}' in customizations['devcontainer-factory'].version is not a semantic version: use X.Y.Z, e.g. 1.2.3 (or 1.2.3-rc.1)`,
    );
  }
  const date = rules.date ? dateTag(now) : undefined;
  const index = await registry.getManifest(repository, buildId);
  if (!index) {
    throw new ReleaseError(`${registry.host}/${repository}:${buildId} does not exist: assemble the image index of build ${buildId} before releasing it`);
  }
  const known = registry.tagDigests ? await registry.tagDigests(repository) : undefined;
  const existing = known ? [...known.keys()] : await registry.listTags(repository);

  const versionTags = version ? semverTags(version, existing) : [];
  const tags: string[] = [];
  if (rules.semver) tags.push(...versionTags.filter((t) => t !== 'latest'));
  if (rules.latest && (!version || versionTags.includes('latest'))) tags.push('latest');
  // A date tag names the newest release of its day: a back-port does not take it.
  if (date && (!version || versionTags.includes('latest'))) tags.push(date);

  const current = new Map<string, string | undefined>();
  for (const tag of tags) {
    const digest = known ? known.get(tag) : existing.includes(tag) ? (await registry.getManifest(repository, tag))?.digest : undefined;
    current.set(tag, digest);
  }
  if (rules.semver && version) {
    const full = formatSemver(parseSemver(version)!);
    const released = current.get(full);
    if (released && released !== index.digest) throw new VersionConflictError(full, released, index.digest);
  }
  const moved = tags.filter((t) => current.get(t) !== index.digest);
  const previous: Record<string, string> = {};
  for (const t of moved) {
    const before = current.get(t);
    if (before) previous[t] = before;
  }
  return {
    digest: index.digest,
    mediaType: index.mediaType,
    body: index.body,
    tags,
    moved,
    unchanged: tags.filter((t) => !moved.includes(t)),
    previous,
  };
}

/**
 * Releases a build: plans first ({@link planRelease}, which refuses a version that
 * is already released as another image before any tag is written), then puts the
 * exact `<buildId>` index bytes under each tag that does not point at it yet.
 */
export async function releaseImage(registry: Registry, repository: string, options: ReleaseOptions): Promise<ReleaseResult> {
  const plan = await planRelease(registry, repository, options);
  for (const tag of plan.moved) {
    await registry.putManifest(repository, tag, plan.mediaType, plan.body);
  }
  return { digest: plan.digest, tags: plan.tags, moved: plan.moved, unchanged: plan.unchanged };
}

/**
 * True when build `buildId` has been released: its `<buildId>` tag exists, and at
 * least one release tag points at the same digest. A release tag is any tag other
 * than `<buildId>` itself and its per-arch tags `<buildId>-amd64` / `<buildId>-arm64`
 * (so `latest`, `X.Y.Z`, `X.Y`, `X` and date tags all count). The pipeline uses this
 * to skip Build, Manifest and Test for an upload that changed nothing.
 */
export async function isReleased(registry: Registry, repository: string, buildId: string): Promise<boolean> {
  const build = await registry.getManifest(repository, buildId);
  if (!build) return false;
  const own = new Set([buildId, ...SUPPORTED_PLATFORMS.map((p) => archTag(buildId, p.split('/')[1]))]);
  if (registry.tagDigests) {
    const known = await registry.tagDigests(repository);
    return [...known].some(([tag, digest]) => !own.has(tag) && digest === build.digest);
  }
  // Without digests in the listing, read the likeliest release tags first.
  const rank = (t: string) => (t === 'latest' ? 0 : isSemver(t) ? 1 : 2);
  const candidates = (await registry.listTags(repository)).filter((t) => !own.has(t)).sort((a, b) => rank(a) - rank(b));
  for (const tag of candidates) {
    if ((await registry.getManifest(repository, tag))?.digest === build.digest) return true;
  }
  return false;
}
