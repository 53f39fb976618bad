/**
 * Retention of release and staging repositories: what ECR lifecycle rules cannot
 * express (keep every `X.Y.Z`, `X.Y`, `X` and `latest`, and the newest N date
 * tags; never delete what a kept index references), and the local-mode equivalent
 * of the staging repositories' expiry by age. Plan first ({@link planRetention}
 * writes nothing), then delete ({@link applyRetention}).
 */
import { isSemver } from '../semver';
import { parseManifest, type ParsedManifest } from '../oci/manifest';
import { MEDIA_TYPES, Registry, RegistryError } from '../oci/registry';
import { DEFAULT_RELEASE_LOCK, withRepositoryLock, type ReleaseLock } from '../oci/release-lock';
import { mapLimit } from '../concurrency';
import { referrersSubject } from '../oci/referrers';
import { BUILD_ARCHES, archTag, buildIdOfTag, classifyReleaseTags } from './release-tags';

/** How many date tags a release repository keeps when the caller does not say. */
export const DEFAULT_KEEP_DATE_TAGS = 10;
/** After how many days a staging build is deleted when the caller does not say. */
export const DEFAULT_STAGING_MAX_AGE_DAYS = 14;
/** Upper bounds of the retention numbers, shared by the construct's validation and the handler. */
export const RETENTION_LIMITS = {
  keepDateTags: 10_000,
  stagingMaxAgeDays: 3650,
  /** Most manifests one batch of deletes holds: ECR's `BatchDeleteImage` takes 100 image ids. */
  deleteBatch: 100,
} as const;

/** Retention of a release repository `<ns>/images/<id>`. */
export interface ReleaseRetentionOptions {
  readonly kind: 'release';
  /**
   * How many date tags (`YYYYMMDD`) to keep, the newest first.
   * @default DEFAULT_KEEP_DATE_TAGS (10)
   */
  readonly keepDateTags?: number;
  /** The time of the run (the release rules do not depend on it; checked like the staging one). */
  readonly now: Date;
  /**
   * The lock releases of this repository take; held while deleting.
   * @default DEFAULT_RELEASE_LOCK
   */
  readonly lock?: ReleaseLock;
}

/** Retention of a staging repository `<ns>/builds/<id>`. */
export interface StagingRetentionOptions {
  readonly kind: 'staging';
  /**
   * Builds whose image config was created more than this many days before `now` are deleted.
   * @default DEFAULT_STAGING_MAX_AGE_DAYS (14)
   */
  readonly maxAgeDays?: number;
  /** The time of the run, to compute the age of builds. */
  readonly now: Date;
  /** The release repository of the same image: builds released there (same `<build>` digest) are deleted from staging. */
  readonly releaseRepository: string;
  /**
   * The lock releases take; held (on the release repository, then on the staging repository) while deleting.
   * @default DEFAULT_RELEASE_LOCK
   */
  readonly lock?: ReleaseLock;
}

export type RetentionOptions = ReleaseRetentionOptions | StagingRetentionOptions;

/** What a manifest is, as far as the order of deletes cares: indexes go first. */
export type RetentionManifestKind = 'index' | 'image' | 'other';

/** One manifest of a plan: its digest, every tag that points at it, and why it is kept or deleted. */
export interface RetentionEntry {
  readonly digest: string;
  /** Every tag pointing at the digest, sorted. */
  readonly tags: readonly string[];
  readonly kind: RetentionManifestKind;
  /** Why, in words, e.g. `1.2.3, 1.2` or `date tag beyond the newest 10`. */
  readonly reason: string;
}

/** What retention of one repository keeps and deletes; nothing is deleted by making it. */
export interface RetentionPlan {
  readonly repository: string;
  /** The options it was made with; {@link applyRetention} plans again with them. */
  readonly options: RetentionOptions;
  readonly keep: readonly RetentionEntry[];
  /** In the order {@link applyRetention} deletes them: indexes, then per-arch images, then anything else. */
  readonly delete: readonly RetentionEntry[];
}

/** What {@link applyRetention} did. */
export interface RetentionResult {
  /** The plan made under the lock, which was carried out. */
  readonly plan: RetentionPlan;
  /** Entries deleted, in order. */
  readonly deleted: readonly RetentionEntry[];
  /** Entries of the plan not deleted after all, with why (a kept tag arrived meanwhile, or the given plan did not delete it). */
  readonly skipped: readonly { readonly entry: RetentionEntry; readonly reason: string }[];
  /** Entries not reached before the deadline ({@link RetentionApplyOptions.deadline}); the next run deletes them. Empty when it finished. */
  readonly remaining: readonly RetentionEntry[];
}

/** Thrown for options retention cannot work with (nothing was deleted). */
export class RetentionError extends RegistryError {}

/**
 * Thrown when a delete failed midway: says which manifests were deleted and which
 * were not. Running retention again converges: what was deleted is gone from the
 * plan, the rest is deleted.
 */
export class RetentionIncompleteError extends RetentionError {
  constructor(
    /** `<host>/<repository>`. */
    readonly repository: string,
    /** Digests deleted before the failure. */
    readonly deleted: readonly string[],
    /** Digests not deleted, the failed one first (it may or may not have been deleted). */
    readonly notDeleted: readonly string[],
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? options.cause.message : String(options?.cause);
    super(
      `retention of ${repository} failed while deleting ${notDeleted[0]}: ` +
        `deleted ${deleted.length ? deleted.join(', ') : 'nothing'}; not deleted: ${notDeleted.join(', ')}. ` +
        `Run retention again: it deletes what is left. Cause: ${cause}`,
      options,
    );
  }
}

/** Thrown by {@link applyRetention} on a registry client without `deleteManifest`. */
export class RetentionUnsupportedError extends RetentionError {
  constructor(host: string, options?: { cause?: unknown }) {
    super(`the registry client of ${host} cannot delete manifests (no deleteManifest): retention can only plan there`, options);
  }
}

const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
/** Most manifests read at once. */
const CONCURRENCY = 8;
const DAY_MS = 24 * 60 * 60 * 1000;

function checkCount(value: number, what: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new RetentionError(`${what} must be a whole number from 1 to ${max}, not ${value}`);
  }
  return value;
}

function checkOptions(options: RetentionOptions): void {
  if (!(options.now instanceof Date) || Number.isNaN(options.now.getTime())) throw new RetentionError('the retention time (now) is not a valid date');
  if (options.kind === 'release') checkCount(options.keepDateTags ?? DEFAULT_KEEP_DATE_TAGS, 'keepDateTags', RETENTION_LIMITS.keepDateTags);
  else if (options.kind === 'staging') {
    checkCount(options.maxAgeDays ?? DEFAULT_STAGING_MAX_AGE_DAYS, 'maxAgeDays', RETENTION_LIMITS.stagingMaxAgeDays);
    if (!options.releaseRepository) throw new RetentionError('staging retention needs the releaseRepository of the same image');
  } else {
    throw new RetentionError(`retention kind must be 'release' or 'staging', not ${JSON.stringify((options as { kind?: unknown }).kind)}`);
  }
}

/** Reads that do not change within one run: manifests by digest, configs by digest, where release tags `<build>` point. */
interface PlanCache {
  readonly manifests: Map<string, ParsedManifest | null>;
  readonly created: Map<string, Date | null>;
  readonly released: Map<string, { readonly digest: string; readonly children: ReadonlySet<string> } | null>;
}

const newCache = (): PlanCache => ({ manifests: new Map(), created: new Map(), released: new Map() });

/** A tag whose digest does not change once written: `X.Y.Z` (never moves) and build tags (content of one build). */
function isStableTag(tag: string): boolean {
  return isSemver(tag) || buildIdOfTag(tag) !== undefined;
}

/**
 * Every tag of a repository with its digest: one listing where the registry gives
 * both (ECR); otherwise a manifest read per tag, except stable tags already known
 * from `previous` (a re-check right before a delete).
 */
async function readTagDigests(registry: Registry, repository: string, cache: PlanCache, previous?: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  if (registry.tagDigests) return registry.tagDigests(repository);
  const tags = await registry.listTags(repository);
  const out = new Map<string, string>();
  await mapLimit(tags, CONCURRENCY, async (tag) => {
    const known = previous?.get(tag);
    if (known && isStableTag(tag)) {
      out.set(tag, known);
      return;
    }
    const stored = await registry.getManifest(repository, tag);
    if (!stored) return; // deleted since the listing
    out.set(tag, stored.digest);
    if (!cache.manifests.has(stored.digest)) cache.manifests.set(stored.digest, tryParse(stored, `${repository}:${tag}`));
  });
  return out;
}

function tryParse(stored: Parameters<typeof parseManifest>[0], where: string): ParsedManifest | null {
  try {
    return parseManifest(stored, where);
  } catch {
    return null;
  }
}

/** The parsed manifest of a digest (null: not a manifest retention can read, or gone). */
async function manifestOf(registry: Registry, repository: string, digest: string, cache: PlanCache): Promise<ParsedManifest | null> {
  if (cache.manifests.has(digest)) return cache.manifests.get(digest)!;
  const stored = await registry.getManifest(repository, digest);
  const parsed = stored ? tryParse(stored, `${repository}@${digest}`) : null;
  cache.manifests.set(digest, parsed);
  return parsed;
}

const kindOf = (m: ParsedManifest | null): RetentionManifestKind => (m === null ? 'other' : m.kind);
const short = (digest: string) => `${digest.slice(0, 19)}…`;

/** Groups tags by digest, tags sorted. */
function byDigest(tags: ReadonlyMap<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [tag, digest] of [...tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const list = out.get(digest) ?? [];
    list.push(tag);
    out.set(digest, list);
  }
  return out;
}

/** What the rules of a repository kind decide per tagged digest, before kept indexes protect their children. */
interface Decision {
  /** Digests kept by their own tags, with the reason. */
  readonly kept: Map<string, string>;
  /** Digests not kept by their own tags, with the reason they would be deleted. */
  readonly unkept: Map<string, string>;
}

function decideRelease(tags: ReadonlyMap<string, string>, options: ReleaseRetentionOptions): Decision {
  const keepDates = options.keepDateTags ?? DEFAULT_KEEP_DATE_TAGS;
  const classes = classifyReleaseTags(tags.keys());
  const dates = [...classes]
    .filter(([, c]) => c === 'date')
    .map(([t]) => t)
    .sort()
    .reverse();
  const keptDates = new Set(dates.slice(0, keepDates));
  const keptTag = (t: string) => {
    const c = classes.get(t);
    return c === 'semver' || c === 'latest' || c === 'other' || (c === 'date' && keptDates.has(t));
  };
  const kept = new Map<string, string>();
  const unkept = new Map<string, string>();
  for (const [digest, list] of byDigest(tags)) {
    const keeping = list.filter(keptTag);
    const oldDates = list.filter((t) => classes.get(t) === 'date' && !keptDates.has(t));
    if (keeping.length) {
      const own = keeping.filter((t) => classes.get(t) !== 'other');
      const parts = [own.length ? own.join(', ') : ''];
      const other = keeping.filter((t) => classes.get(t) === 'other');
      if (other.length) parts.push(`${other.join(', ')}: not a tag retention manages`);
      const also = keeping.find((t) => isSemver(t)) ?? keeping.find((t) => t === 'latest') ?? keeping[0];
      for (const d of oldDates) parts.push(`${d} beyond the newest ${keepDates} date tags, kept: also tagged ${also}`);
      kept.set(digest, parts.filter(Boolean).join('; '));
    } else if (oldDates.length) {
      unkept.set(digest, `date tag beyond the newest ${keepDates}`);
    } else {
      unkept.set(digest, 'not released under a kept tag (only build tags)');
    }
  }
  return { kept, unkept };
}

async function decideStaging(
  registry: Registry,
  repository: string,
  tags: ReadonlyMap<string, string>,
  options: StagingRetentionOptions,
  cache: PlanCache,
): Promise<Decision> {
  const maxAgeDays = options.maxAgeDays ?? DEFAULT_STAGING_MAX_AGE_DAYS;
  const builds = new Map<string, string[]>();
  for (const tag of tags.keys()) {
    const build = buildIdOfTag(tag);
    if (build) builds.set(build, [...(builds.get(build) ?? []), tag]);
  }
  // Why each build goes (a reason) or stays (undefined reason, with a keep reason).
  const verdicts = new Map<string, { delete: boolean; reason: string }>();
  await mapLimit([...builds.keys()], CONCURRENCY, async (build) => {
    if (await isReleasedBuild(registry, options.releaseRepository, build, tags, cache)) {
      verdicts.set(build, { delete: true, reason: `build ${build} is released in ${options.releaseRepository}` });
      return;
    }
    const created = await createdOf(registry, repository, build, tags, cache);
    if (!created) {
      verdicts.set(build, { delete: false, reason: `build ${build}: age unknown (no readable 'created' time in its image config), not released` });
      return;
    }
    const days = (options.now.getTime() - created.getTime()) / DAY_MS;
    const when = created.toISOString().slice(0, 10);
    verdicts.set(
      build,
      days > maxAgeDays
        ? { delete: true, reason: `build ${build} was created ${when}, more than ${maxAgeDays} days ago` }
        : { delete: false, reason: `build ${build} was created ${when}, not released` },
    );
  });
  const kept = new Map<string, string>();
  const unkept = new Map<string, string>();
  for (const [digest, list] of byDigest(tags)) {
    const keepReasons = list.map((t) => {
      const build = buildIdOfTag(t);
      if (!build) return `${t}: not a build tag`;
      const v = verdicts.get(build)!;
      return v.delete ? undefined : v.reason;
    });
    const keeping = [...new Set(keepReasons.filter((r): r is string => r !== undefined))];
    if (keeping.length) kept.set(digest, keeping.join('; '));
    else unkept.set(digest, [...new Set(list.map((t) => verdicts.get(buildIdOfTag(t)!)!.reason))].join('; '));
  }
  return { kept, unkept };
}

/**
 * True when the release repository holds build `build` as staged: its `<build>` tag has
 * the digest of the staging `<build>`, or, when staging has no `<build>` index any more
 * (a run that stopped midway), the release index references every staged per-arch image.
 */
async function isReleasedBuild(
  registry: Registry,
  releaseRepository: string,
  build: string,
  tags: ReadonlyMap<string, string>,
  cache: PlanCache,
): Promise<boolean> {
  if (!cache.released.has(build)) {
    const stored = await registry.getManifest(releaseRepository, build);
    const parsed = stored ? tryParse(stored, `${releaseRepository}:${build}`) : null;
    cache.released.set(
      build,
      stored ? { digest: stored.digest, children: new Set(parsed?.kind === 'index' ? parsed.index.manifests.map((m) => m.digest) : []) } : null,
    );
  }
  const released = cache.released.get(build);
  if (!released) return false;
  const index = tags.get(build);
  if (index) return index === released.digest;
  const images = BUILD_ARCHES.map((a) => tags.get(archTag(build, a))).filter((d): d is string => d !== undefined);
  return images.length > 0 && images.every((d) => released.children.has(d));
}

/** The `created` time of a build's image config: from `<build>-<arch>`, else from the index's first image. */
async function createdOf(
  registry: Registry,
  repository: string,
  build: string,
  tags: ReadonlyMap<string, string>,
  cache: PlanCache,
): Promise<Date | undefined> {
  const candidates = BUILD_ARCHES.map((a) => tags.get(archTag(build, a))).filter((d): d is string => d !== undefined);
  const index = tags.get(build);
  if (index) {
    const parsed = await manifestOf(registry, repository, index, cache);
    if (parsed?.kind === 'index') candidates.push(...parsed.index.manifests.filter((m) => !INDEX_MEDIA_TYPES.includes(m.mediaType)).map((m) => m.digest));
  }
  for (const digest of candidates) {
    const parsed = await manifestOf(registry, repository, digest, cache);
    if (parsed?.kind !== 'image') continue;
    const config = parsed.manifest.config.digest;
    if (!cache.created.has(config)) {
      let created: Date | null = null;
      try {
        const json = JSON.parse((await registry.getBlob(repository, config)).toString('utf8')) as { created?: unknown };
        const time = typeof json.created === 'string' ? new Date(json.created) : undefined;
        created = time && !Number.isNaN(time.getTime()) ? time : null;
      } catch (cause) {
        if (!(cause instanceof SyntaxError)) throw new RetentionError(`cannot read the image config ${config} of ${repository}:${build}`, { cause });
      }
      cache.created.set(config, created);
    }
    const created = cache.created.get(config);
    if (created) return created;
  }
  return undefined;
}

/** The plan for a tag listing: the rules, then every manifest a kept index references (transitively) is kept too. */
async function planFor(
  registry: Registry,
  repository: string,
  options: RetentionOptions,
  tags: ReadonlyMap<string, string>,
  cache: PlanCache,
): Promise<RetentionPlan> {
  const decision = options.kind === 'release' ? decideRelease(tags, options) : await decideStaging(registry, repository, tags, options, cache);
  const tagsOf = byDigest(tags);
  await mapLimit([...tagsOf.keys()], CONCURRENCY, (d) => manifestOf(registry, repository, d, cache));
  const kept = new Map(decision.kept);
  // Children of kept indexes, and their children.
  const queue = [...kept.keys()];
  const seen = new Set(queue);
  while (queue.length) {
    const digest = queue.shift()!;
    const parsed = await manifestOf(registry, repository, digest, cache);
    if (parsed?.kind !== 'index') continue;
    const parent = tagsOf.get(digest);
    for (const child of parsed.index.manifests) {
      if (!kept.has(child.digest)) kept.set(child.digest, `referenced by kept index ${short(digest)}${parent ? ` (${parent.join(', ')})` : ''}`);
      if (!seen.has(child.digest)) {
        seen.add(child.digest);
        if (INDEX_MEDIA_TYPES.includes(child.mediaType)) queue.push(child.digest);
      }
    }
  }
  // The referrers fallback tags (`sha256-<hex>`: an image's SBOM, an index's configuration) follow their image.
  for (const [digest, list] of tagsOf) {
    const subjects = list.map(referrersSubject);
    if (subjects.some((d) => d === undefined)) continue;
    const keptSubjects = (subjects as string[]).filter((d) => kept.has(d));
    if (keptSubjects.length) kept.set(digest, `artifacts (SBOM, configuration) of kept image ${keptSubjects.map(short).join(', ')}`);
    else {
      kept.delete(digest);
      decision.unkept.set(
        digest,
        `artifacts (SBOM, configuration) of ${(subjects as string[]).map(short).join(', ')}, which ${subjects.length > 1 ? 'are' : 'is'} not kept`,
      );
    }
  }
  const keep: RetentionEntry[] = [];
  const remove: RetentionEntry[] = [];
  for (const [digest, list] of tagsOf) {
    const kind = kindOf(cache.manifests.get(digest) ?? null);
    const reason = kept.get(digest);
    if (reason !== undefined) keep.push({ digest, tags: list, kind, reason });
    else remove.push({ digest, tags: list, kind, reason: decision.unkept.get(digest) ?? 'no kept tag' });
  }
  const order: Record<RetentionManifestKind, number> = { index: 0, image: 1, other: 2 };
  remove.sort((a, b) => order[a.kind] - order[b.kind]);
  return { repository, options, keep, delete: remove };
}

/**
 * Works out what retention of a repository keeps and deletes, without deleting
 * anything. Release repositories keep every semver-shaped tag (`X.Y.Z`, prereleases,
 * `X.Y`, `X`), `latest`, the newest `keepDateTags` date tags, and tags retention does
 * not manage (such as `buildcache-amd64`); staging repositories delete builds released
 * in `releaseRepository` (same `<build>` digest) or created more than `maxAgeDays`
 * ago, and keep every other tag. In both, every manifest a kept index references is kept.
 */
export async function planRetention(registry: Registry, repository: string, options: RetentionOptions): Promise<RetentionPlan> {
  checkOptions(options);
  const cache = newCache();
  return planFor(registry, repository, options, await readTagDigests(registry, repository, cache), cache);
}

/** Human lines of a plan: one per manifest, deletes first. */
export function formatRetentionPlan(plan: RetentionPlan): string[] {
  const tags = (e: RetentionEntry) => (e.tags.length ? ` (tags ${e.tags.join(', ')})` : '');
  const head = `${plan.repository} (${plan.options.kind}): delete ${plan.delete.length}, keep ${plan.keep.length}`;
  return [head, ...plan.delete.map((e) => `delete ${e.digest}${tags(e)}: ${e.reason}`), ...plan.keep.map((e) => `keep ${e.digest}${tags(e)}: ${e.reason}`)];
}

function isPlan(value: RetentionPlan | RetentionOptions): value is RetentionPlan {
  return 'options' in value && 'delete' in value;
}

/** How {@link applyRetention} paces itself. */
export interface RetentionApplyOptions {
  /**
   * Stop before this time: no batch of deletes starts after it, and what is left is
   * returned in {@link RetentionResult.remaining} (the next run deletes it). The
   * retention Lambda sets it a margin before its own time-out.
   * @default - no deadline
   */
  readonly deadline?: Date;
  /**
   * The clock the deadline is read on.
   * @default - the current time
   */
  readonly clock?: () => Date;
  /**
   * Most manifests deleted per batch; each batch takes the lock, reads the tags once,
   * plans again on them and deletes (in one request where the registry can).
   * @default RETENTION_LIMITS.deleteBatch (100, ECR's BatchDeleteImage maximum)
   */
  readonly batchSize?: number;
}

/** The batches of a delete list: at most `size` entries each, and never an index in a batch with what it may reference. */
function batchesOf(entries: readonly RetentionEntry[], size: number): RetentionEntry[][] {
  const out: RetentionEntry[][] = [];
  for (const entry of entries) {
    const last = out[out.length - 1];
    if (last && last.length < size && last[0].kind === entry.kind) last.push(entry);
    else out.push([entry]);
  }
  return out;
}

/**
 * Carries out retention of a repository, in batches of deletes. Each batch holds the
 * lock releases take (so no release is between its tags while retention deletes),
 * reads the tags once, plans again on what the registry holds now, and deletes the
 * batch's manifests that the new plan still deletes: a manifest that gained a kept
 * tag (or a kept index that references it) meanwhile is skipped. Indexes go first,
 * then per-arch images. Between two batches the lock is free, so a release waits at
 * most one batch. Requests grow with what is deleted: one tag listing and one delete
 * request per batch (on ECR), besides reading each manifest once. Given a plan rather
 * than options, it deletes only what both that plan and the new ones delete. With a
 * deadline it stops before it, and says what is left.
 * @throws RetentionIncompleteError when a delete fails, naming what was deleted and what was not
 */
export async function applyRetention(
  registry: Registry,
  repository: string,
  planOrOptions: RetentionPlan | RetentionOptions,
  pace: RetentionApplyOptions = {},
): Promise<RetentionResult> {
  const given = isPlan(planOrOptions) ? planOrOptions : undefined;
  const options = given ? given.options : (planOrOptions as RetentionOptions);
  checkOptions(options);
  const batchSize = checkCount(pace.batchSize ?? RETENTION_LIMITS.deleteBatch, 'batchSize', RETENTION_LIMITS.deleteBatch);
  const deleteOne = registry.deleteManifest?.bind(registry);
  if (!deleteOne) throw new RetentionUnsupportedError(registry.host);
  const deleteMany = registry.deleteManifests?.bind(registry);
  const clock = pace.clock ?? (() => new Date());
  const pastDeadline = () => pace.deadline !== undefined && clock().getTime() >= pace.deadline.getTime();
  const lock = options.lock ?? DEFAULT_RELEASE_LOCK;
  // The release lock of the image first (promotions and releases hold it), then the staging repository's own.
  const locked = <T>(work: () => Promise<T>): Promise<T> =>
    options.kind === 'staging'
      ? withRepositoryLock(lock, registry.host, options.releaseRepository, () => withRepositoryLock(lock, registry.host, repository, work))
      : withRepositoryLock(lock, registry.host, repository, work);
  const where = `${registry.host}/${repository}`;
  const cache = newCache();
  let tags = await readTagDigests(registry, repository, cache);
  const plan = await planFor(registry, repository, options, tags, cache);
  const allowed = given ? new Set(given.delete.map((e) => e.digest)) : undefined;
  const deleted: RetentionEntry[] = [];
  const skipped: { entry: RetentionEntry; reason: string }[] = [];
  const wanted = plan.delete.filter((entry) => {
    if (!allowed || allowed.has(entry.digest)) return true;
    skipped.push({ entry, reason: 'not deleted by the plan that was given' });
    return false;
  });
  const batches = batchesOf(wanted, batchSize);
  for (const [b, batch] of batches.entries()) {
    if (pastDeadline()) {
      return { plan, deleted, skipped, remaining: batches.slice(b).flat() };
    }
    const failed = await locked(async () => {
      // Under the lock: read the tags again and plan on them, so a release that finished since is seen.
      let now: RetentionPlan;
      try {
        tags = await readTagDigests(registry, repository, cache, tags);
        now = await planFor(registry, repository, options, tags, cache);
      } catch (cause) {
        return { at: 0, cause };
      }
      const keptNow = new Map(now.keep.map((e) => [e.digest, e.reason]));
      const deletedNow = new Set(now.delete.map((e) => e.digest));
      const go: RetentionEntry[] = [];
      for (const entry of batch) {
        const kept = keptNow.get(entry.digest);
        if (kept !== undefined) skipped.push({ entry, reason: `kept now: ${kept}` });
        else if (!deletedNow.has(entry.digest)) skipped.push({ entry, reason: 'no longer tagged' });
        else go.push(entry);
      }
      if (deleteMany && go.length > 1) {
        let failures: ReadonlyMap<string, string>;
        try {
          failures = await deleteMany(
            repository,
            go.map((e) => e.digest),
          );
        } catch (cause) {
          return { at: 0, cause, go };
        }
        const done = go.filter((e) => !failures.has(e.digest));
        deleted.push(...done);
        const first = go.find((e) => failures.has(e.digest));
        if (first) return { at: 0, cause: new RetentionError(`${first.digest}: ${failures.get(first.digest)}`), go: go.filter((e) => failures.has(e.digest)) };
        return undefined;
      }
      for (const [i, entry] of go.entries()) {
        try {
          await deleteOne(repository, entry.digest);
        } catch (cause) {
          return { at: i, cause, go };
        }
        deleted.push(entry);
      }
      return undefined;
    });
    if (failed) {
      const left = [...(failed.go ? failed.go.slice(failed.at) : batch.filter((e) => !deleted.includes(e))), ...batches.slice(b + 1).flat()];
      throw new RetentionIncompleteError(
        where,
        deleted.map((e) => e.digest),
        left.map((e) => e.digest),
        { cause: failed.cause },
      );
    }
  }
  return { plan, deleted, skipped, remaining: [] };
}

/**
 * The environment variables of the retention Lambda: the `ImageRetention` construct
 * writes them, the handler reads them (its event may override each one).
 */
export const RETENTION_ENVIRONMENT = {
  /** The registry host, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  registryHost: 'REGISTRY_HOST',
  /** `<ns>/images/<id>`. */
  releaseRepository: 'RELEASE_REPOSITORY',
  /** `<ns>/builds/<id>`. */
  stagingRepository: 'STAGING_REPOSITORY',
  /** Whole number of date tags to keep. */
  keepDateTags: 'KEEP_DATE_TAGS',
  /** Whole number of days after which a staging build is deleted. */
  stagingMaxAgeDays: 'STAGING_MAX_AGE_DAYS',
  /** `true` to log the plan and delete nothing. */
  dryRun: 'DRY_RUN',
} as const;
