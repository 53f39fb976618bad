import { randomUUID, createHash } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { archTag } from '../naming';
import { formatSemver, isSemver, parseSemver, semverProblem, semverTags } from '../semver';
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
  /**
   * Tags that could not be read back after the release (the read failed, or the
   * registry did not show the tag yet); every put of them went through.
   * @default - none: every tag was read back at `digest`
   */
  readonly unverified?: readonly string[];
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
  ) {
    super(
      `${repository}:${tag} should point at ${expectedDigest} after this release, but points at ${foundDigest}: ` +
        `another release of ${repository} wrote it at the same time, and this release lost` +
        (moved.length ? ` (it had moved ${moved.join(', ')})` : '') +
        `. Run the release again: it refuses a version that the other release took, and otherwise completes`,
    );
    this.name = 'ReleaseRaceError';
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
    this.name = 'ReleaseIncompleteError';
  }
}

/** A lock held by {@link ReleaseLock.acquire}; `release()` gives it up (safe to call twice). */
export interface HeldReleaseLock {
  release(): Promise<void>;
}

/**
 * Serialises the writers of one repository of one registry (`host` +
 * `repository`). Image releases lock their release repository; feature publishes
 * lock the namespace's collection repository `<ns>/features`, which every publish
 * rewrites (and under which every feature repository lies).
 */
export interface ReleaseLock {
  /**
   * Waits until no other holder has the lock of `host/repository`, then holds it.
   * @throws ReleaseLockTimeoutError when it stays held for too long
   */
  acquire(host: string, repository: string): Promise<HeldReleaseLock>;
}

/**
 * A lock that locks nothing, for a caller whose writers are already serialised:
 * the cloud, where each repository is written by exactly one pipeline whose
 * Release (or Publish) stage holds one execution at a time.
 */
export const NO_RELEASE_LOCK: ReleaseLock = {
  acquire: async () => ({ release: async () => undefined }),
};

/** Runs `work` holding the lock of `host/repository`, and gives the lock up afterwards, also when `work` throws. */
export async function withRepositoryLock<T>(lock: ReleaseLock, host: string, repository: string, work: () => Promise<T>): Promise<T> {
  const held = await lock.acquire(host, repository);
  try {
    return await work();
  } finally {
    await held.release();
  }
}

/** Thrown when a {@link FileReleaseLock} stays held by another writer longer than its timeout. */
export class ReleaseLockTimeoutError extends RegistryError {
  constructor(
    /** `<host>/<repository>`. */
    readonly repository: string,
    /** The lock file. */
    readonly file: string,
    /** What the lock file says about its holder. */
    readonly holder: string,
    readonly timeoutMs: number,
  ) {
    super(
      `${repository} is locked by another writer (${holder}) for more than ${Math.round(timeoutMs / 1000)} s (lock file ${file}). ` +
        `Wait for the other dcf run to finish; if none is running, delete the lock file`,
    );
    this.name = 'ReleaseLockTimeoutError';
  }
}

export interface FileReleaseLockProps {
  /**
   * Folder of the lock files; every writer that must be serialised uses the same one.
   * @default - `os.tmpdir()`, shared by every process of the machine
   */
  readonly dir?: string;
  /**
   * How long to wait for a held lock before failing.
   * @default 300000 (5 minutes)
   */
  readonly timeoutMs?: number;
  /**
   * Time between two attempts while the lock is held.
   * @default 25
   */
  readonly pollMs?: number;
  /**
   * Age after which a lock file whose holder cannot be checked (another machine,
   * unreadable content) counts as stale.
   * @default 600000 (10 minutes)
   */
  readonly staleMs?: number;
}

/** What a lock file holds. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly token: string;
  readonly repository: string;
}

/**
 * A lock file per registry host and repository, created atomically and exclusively
 * (a hard link of a fully written file, or `fs.open(file, 'wx')`, `O_CREAT | O_EXCL`,
 * where the file system has no hard links), so that exactly one process holds it.
 * It serialises the processes that share its folder, i.e. one machine, which is
 * every writer of a `localhost` registry. A lock in the registry itself is not
 * possible: the OCI distribution API has no atomic create or compare-and-swap. The file names
 * its holder (pid, host name, time); a lock whose holder process is dead (same host
 * name, no such pid) is stale and is broken, so a killed `dcf` run does not block
 * the next one. Waiting is bounded: {@link ReleaseLockTimeoutError} after `timeoutMs`.
 */
export class FileReleaseLock implements ReleaseLock {
  private readonly dir: string;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly staleMs: number;

  constructor(props: FileReleaseLockProps = {}) {
    this.dir = props.dir ?? tmpdir();
    this.timeoutMs = props.timeoutMs ?? 300_000;
    this.pollMs = props.pollMs ?? 25;
    this.staleMs = props.staleMs ?? 600_000;
  }

  /** The lock file of `host/repository`. */
  fileOf(host: string, repository: string): string {
    const key = createHash('sha256').update(`${host}/${repository}`).digest('hex').slice(0, 32);
    return join(this.dir, `devcontainer-factory-${key}.lock`);
  }

  async acquire(host: string, repository: string): Promise<HeldReleaseLock> {
    const file = this.fileOf(host, repository);
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID(), repository: `${host}/${repository}` };
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (await this.tryCreate(file, owner)) return { release: once(() => this.remove(file, owner.token)) };
      const holder = await this.staleHolder(file);
      if (holder.stale) await this.breakStale(file, holder.text);
      else if (Date.now() >= deadline) throw new ReleaseLockTimeoutError(owner.repository, file, holder.text ?? '(unreadable)', this.timeoutMs);
      else await sleep(this.pollMs * (0.5 + Math.random()));
    }
  }

  private async tryCreate(file: string, owner: LockOwner): Promise<boolean> {
    // Write the owner to a private file, then link it in place: the lock file is never seen half-written.
    const temp = `${file}.${owner.token}`;
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(JSON.stringify(owner));
    } finally {
      await handle.close();
    }
    try {
      await linkExclusive(temp, file);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    // A file system without hard links: create the lock file itself exclusively.
    try {
      const direct = await open(file, 'wx', 0o644);
      try {
        await direct.writeFile(JSON.stringify(owner));
      } finally {
        await direct.close();
      }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }

  /** Whether the lock file's holder is gone; `text` is its content (undefined when the file vanished). */
  private async staleHolder(file: string): Promise<{ stale: boolean; text?: string }> {
    let text: string;
    let age: number;
    try {
      text = await readFile(file, 'utf8');
      age = Date.now() - (await stat(file)).mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { stale: false };
      throw e;
    }
    let holder: Partial<LockOwner> | undefined;
    try {
      holder = JSON.parse(text) as Partial<LockOwner>;
    } catch {
      holder = undefined;
    }
    const described = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : text;
    if (holder && holder.host === hostname() && typeof holder.pid === 'number') return { stale: !processAlive(holder.pid), text: described };
    return { stale: age > this.staleMs, text: described };
  }

  /** Removes a stale lock file, unless another waiter replaced it meanwhile. */
  private async breakStale(file: string, seen: string | undefined): Promise<void> {
    // Move it aside first (atomic), then check that what was moved is the stale lock seen.
    const aside = `${file}.stale.${randomUUID()}`;
    try {
      await rename(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const moved = await readFile(aside, 'utf8').catch(() => undefined);
    const holder = moved ? safeJson(moved) : undefined;
    const described = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : moved;
    if (described !== seen) {
      // A live lock was taken between the check and the move: put it back where it was.
      await linkExclusive(aside, file).catch(() => undefined);
    }
    await unlink(aside).catch(() => undefined);
  }

  private async remove(file: string, token: string): Promise<void> {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text && safeJson(text)?.token === token) await unlink(file).catch(() => undefined);
  }
}

/** Hard-links `from` as `to`; fails with `EEXIST` when `to` exists, atomically. */
async function linkExclusive(from: string, to: string): Promise<void> {
  await link(from, to);
}

function safeJson(text: string): Partial<LockOwner> | undefined {
  try {
    return JSON.parse(text) as Partial<LockOwner>;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The lock releases and publishes use when the caller passes none. */
export const DEFAULT_RELEASE_LOCK: ReleaseLock = new FileReleaseLock();

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
    const problem = semverProblem(version)!;
    throw new ReleaseError(
      problem.includes('is not a semantic version')
        ? `version '${version}' in customizations['devcontainer-factory'].version is not a semantic version: use X.Y.Z, e.g. 1.2.3 (or 1.2.3-rc.1)`
        : `version in customizations['devcontainer-factory'].version: ${problem}`,
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
    const where = `${registry.host}/${repository}`;
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
    return { digest: plan.digest, tags: plan.tags, moved: plan.moved, unchanged: plan.unchanged, ...(unverified.length ? { unverified } : {}) };
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
