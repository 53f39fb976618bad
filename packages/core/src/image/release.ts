import { archTag, dateTag } from './release-tags';
import { formatSemver, isSemver, parseSemver, semverProblem, semverTags } from '../semver';
import { indexInputRecord } from './input-record';
import { SUPPORTED_PLATFORMS } from '../oci/platform';
import { promoteBuild, type PromotionResult } from './promote';
import { Registry, RegistryError, type StoredManifest } from '../oci/registry';
import { DEFAULT_RELEASE_LOCK, withRepositoryLock, type ReleaseLock } from '../oci/release-lock';

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
  /**
   * Serialises the writers of the repository: the release plans, writes and
   * verifies while it holds the lock, so a second writer sees the first one's tags.
   * The OCI distribution API has no compare-and-swap, so the registry cannot do this.
   * @default - a {@link FileReleaseLock}, shared by every process of this machine (all
   * `dcf local` runs against a `localhost` registry). In the cloud it is held alone
   * (a Lambda sandbox runs one invocation at a time): there the image pipeline
   * serialises Release of its repository (one Release action, `SUPERSEDED` mode).
   */
  readonly lock?: ReleaseLock;
  /**
   * The staging repository the build was made and tested in (`<ns>/builds/<id>`). When
   * given, the release promotes the build from there ({@link promoteBuild}) after the
   * plan is made (so a refused version moves nothing) and before any tag is put.
   * @default - the build is already in the release repository
   */
  readonly staging?: string;
  /**
   * The vulnerability gate ({@link runScanGate}): called with the plan and the
   * repository that holds the build (staging when it is staged there), after the plan
   * and before anything is promoted or tagged, so a build it refuses moves nothing.
   * @default - no gate
   */
  readonly gate?: (plan: ReleasePlan, repository: string) => Promise<ReleaseGateOutcome>;
  /**
   * Refuse ({@link ReleaseRulesError}), before the gate, the promotion or any tag, a release
   * whose rules give the build no tag: nothing would ever be pullable by a name.
   * @default false - such a release moves nothing and succeeds (a back-port with only `latest`)
   */
  readonly requireTag?: boolean;
}

/** What the release's gate decided, as the release reports it (the vulnerability gate's `GateOutcome` is one). */
export interface ReleaseGateOutcome {
  /** For people, e.g. `linux/amd64: 0 blocking, 1 allowed (CVE-…)`. */
  readonly summary: string;
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
  /**
   * `X.Y.Z` when this build is a refresh of a released version (the same configuration,
   * a base image or feature moved): `X.Y.Z` stays on the build first released as it,
   * and only `X.Y`, `X`, `latest` and the date tag move.
   * @default - not a refresh
   */
  readonly pinned?: string;
  /** True when the index was read from the staging repository (so the release promotes it from there). */
  readonly staged?: boolean;
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
  /**
   * Tags that could not be read back after the release (the read failed, or the
   * registry did not show the tag yet); every put of them went through.
   * @default - none: every tag was read back at `digest`
   */
  readonly unverified?: readonly string[];
  /** What the promotion from staging did, when `staging` was given. */
  readonly promotion?: PromotionResult;
  /** What the vulnerability gate decided, when `gate` was given. */
  readonly gate?: ReleaseGateOutcome;
  /** `X.Y.Z` when this was a refresh of a released version: it stayed on that version's first build (see {@link ReleasePlan.pinned}). */
  readonly pinned?: string;
}

/** Thrown when a release cannot go ahead (missing build, bad version); nothing was tagged. */
export class ReleaseError extends RegistryError {}

/** Thrown when the tag rules give a build no tag at all ({@link ReleaseOptions.requireTag}): nothing was promoted or tagged. */
export class ReleaseRulesError extends ReleaseError {}

/** Thrown when `X.Y.Z` is already released as another image; nothing was tagged. */
export class VersionConflictError extends ReleaseError {
  constructor(
    /** The version, e.g. `1.2.3`. */
    readonly version: string,
    /** The digest `X.Y.Z` points at. */
    readonly releasedDigest: string,
    /** The digest of the build that was to be released. */
    readonly digest: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${version} is already released as ${releasedDigest}; this build is ${digest}. ` +
        `A released version never moves: bump the version in customizations['devcontainer-factory'].version`,
      options,
    );
  }
}

/**
 * Thrown when, after a release wrote its tags, a tag read back does not point at
 * the released digest: another writer moved it at the same time, and this release
 * lost. The release did not happen as planned; nothing reports success.
 */
export class ReleaseRaceError extends ReleaseError {
  constructor(
    /** `<host>/<repository>`. */
    readonly repository: string,
    /** The tag that was read back. */
    readonly tag: string,
    /** The digest this release put under the tag. */
    readonly expectedDigest: string,
    /** The digest the tag points at now. */
    readonly foundDigest: string,
    /** Tags this release wrote before it found out. */
    readonly moved: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `${repository}:${tag} should point at ${expectedDigest} after this release, but points at ${foundDigest}: ` +
        `another release of ${repository} wrote it at the same time, and this release lost` +
        (moved.length ? ` (it had moved ${moved.join(', ')})` : '') +
        `. Run the release again: it refuses a version that the other release took, and otherwise completes`,
      options,
    );
  }
}

/**
 * Thrown when a write failed midway through a release (registry error, reset,
 * registry gone): says which tags were moved and which were not. Running the same
 * release again converges: tags already moved are unchanged, the rest are moved.
 */
export class ReleaseIncompleteError extends ReleaseError {
  constructor(
    /** `<host>/<repository>`. */
    readonly repository: string,
    /** The digest being released. */
    readonly digest: string,
    /** Tags written and confirmed before the failure. */
    readonly moved: readonly string[],
    /** Tags not moved, the failed one first (it may or may not have been written). */
    readonly notMoved: readonly string[],
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? options.cause.message : String(options?.cause);
    super(
      `the release of ${repository} (${digest}) failed while tagging ${notMoved[0]}: ` +
        `moved ${moved.length ? moved.join(', ') : 'no tag'}; not moved: ${notMoved.join(', ')}. ` +
        `Run the release again: it moves the tags that are left. Cause: ${cause}`,
      options,
    );
  }
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
    const problem = semverProblem(version)!;
    throw new ReleaseError(
      problem.includes('is not a semantic version')
        ? `version '${version}' in customizations['devcontainer-factory'].version is not a semantic version: use X.Y.Z, e.g. 1.2.3 (or 1.2.3-rc.1)`
        : `version in customizations['devcontainer-factory'].version: ${problem}`,
    );
  }
  if (rules.date && Number.isNaN(now.getTime())) throw new ReleaseError('the release time is not a valid date');
  const date = rules.date ? dateTag(now) : undefined;
  // The tested build is the one in staging; a build released before may have expired there.
  const staged = options.staging ? await registry.getManifest(options.staging, buildId) : undefined;
  const index = staged ?? (await registry.getManifest(repository, buildId));
  if (!index) {
    const where = options.staging
      ? `neither ${registry.host}/${options.staging}:${buildId} (staging) nor ${repository}:${buildId} exists`
      : `${registry.host}/${repository}:${buildId} does not exist`;
    throw new ReleaseError(`${where}: assemble the image index of build ${buildId} before releasing it`);
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
  let pinned: string | undefined;
  if (rules.semver && version) {
    const full = formatSemver(parseSemver(version)!);
    const released = current.get(full);
    if (released && released !== index.digest) {
      // A refresh (the same configuration, a base or feature moved) keeps X.Y.Z on the build
      // first released as it and moves the rest; another configuration must bump the version.
      if (!(await isRefresh(registry, repository, released, index))) throw new VersionConflictError(full, released, index.digest);
      pinned = full;
      tags.splice(tags.indexOf(full), 1);
      current.delete(full);
    }
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
    ...(pinned ? { pinned } : {}),
    ...(staged ? { staged: true } : {}),
  };
}

function untaggedError(options: ReleaseOptions, plan: ReleasePlan): ReleaseRulesError {
  const names = (Object.keys(options.rules) as (keyof ReleaseRules)[]).filter((r) => options.rules[r]);
  const why =
    options.rules.semver && options.version === undefined
      ? ": the 'semver' rule needs a version: set customizations['devcontainer-factory'].version in devcontainer.json, or add the 'latest' or 'date' rule in the catalogue"
      : plan.pinned
        ? `: ${plan.pinned} stays on its first build, and the rules move no other tag to this refresh`
        : names.length === 0
          ? ': add a release tag rule in the catalogue'
          : ': a newer version is released, so neither latest nor the date tag moves back; add the semver rule in the catalogue to tag back-ports';
  return new ReleaseRulesError(
    `the release tag rules (${names.join(', ') || 'none'}) give build ${options.buildId} no tag${why}; nothing was promoted and no tag moved`,
  );
}

/** True when the build is a refresh of the released one: both record the same configuration. */
async function isRefresh(registry: Registry, repository: string, releasedDigest: string, build: StoredManifest): Promise<boolean> {
  const mine = indexInputRecord(build.body, `${registry.host}/${repository}@${build.digest}`)?.configuration;
  if (!mine) return false;
  const released = await registry.getManifest(repository, releasedDigest);
  return released !== undefined && indexInputRecord(released.body, `${registry.host}/${repository}@${releasedDigest}`)?.configuration === mine;
}

/**
 * Releases a build. Holding the repository's {@link ReleaseLock}, it plans
 * ({@link planRelease}, which refuses a version that is already released as another
 * image before any tag is written) on what the registry holds now, so a release
 * that finished meanwhile is seen (its `X.Y.Z` is refused, and `latest`, `X.Y`, `X`
 * only move forward), puts the exact `<buildId>` index bytes
 * under each tag that does not point at it yet, and reads every tag back.
 * @throws VersionConflictError when `X.Y.Z` is released as another image (nothing written)
 * @throws ReleaseIncompleteError when a write fails midway, naming the tags moved and not moved
 * @throws ReleaseRaceError when a tag read back points elsewhere: another writer won
 */
export async function releaseImage(registry: Registry, repository: string, options: ReleaseOptions): Promise<ReleaseResult> {
  return withRepositoryLock(options.lock ?? DEFAULT_RELEASE_LOCK, registry.host, repository, async () => {
    // Planned under the lock: a release that finished meanwhile is seen.
    const plan = await planRelease(registry, repository, options);
    if (options.requireTag && plan.tags.length === 0) throw untaggedError(options, plan);
    const where = `${registry.host}/${repository}`;
    // Promoted when staging holds the build; one released before may have expired there.
    const gate = options.gate ? await options.gate(plan, plan.staged && options.staging ? options.staging : repository) : undefined;
    const promotion = plan.staged && options.staging ? await promoteBuild(registry, options.staging, repository, options.buildId) : undefined;
    const written: string[] = [];
    for (const tag of plan.moved) {
      try {
        await registry.putManifest(repository, tag, plan.mediaType, plan.body);
      } catch (cause) {
        throw new ReleaseIncompleteError(where, plan.digest, written, plan.moved.slice(written.length), { cause });
      }
      written.push(tag);
    }
    const unverified: string[] = [];
    for (const tag of plan.tags) {
      // Every put went through: a read that fails or finds no tag (a registry on eventually
      // consistent storage may not show a fresh tag at once) leaves the tag unverified; only
      // another digest under the tag is evidence that another writer won.
      const found = await registry.getManifest(repository, tag).then(
        (m) => m?.digest,
        () => undefined,
      );
      if (found === undefined) unverified.push(tag);
      else if (found !== plan.digest) throw new ReleaseRaceError(where, tag, plan.digest, found, written);
    }
    return {
      digest: plan.digest,
      tags: plan.tags,
      moved: plan.moved,
      unchanged: plan.unchanged,
      ...(unverified.length ? { unverified } : {}),
      ...(promotion ? { promotion } : {}),
      ...(gate ? { gate } : {}),
      ...(plan.pinned ? { pinned: plan.pinned } : {}),
    };
  });
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
