/**
 * The lock that serialises the writers of one repository (releases and feature
 * publishes): the OCI distribution API has no atomic create or compare-and-swap, so
 * writers on one machine share a lock file per registry and repository.
 */
import { randomUUID, createHash } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from './registry';

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

/**
 * The environment variable of the cloud's Release and Retention functions that names
 * the DynamoDB table of their shared release lock (absent: the function is the only
 * writer of its repositories, or runs outside the factory's constructs).
 */
export const RELEASE_LOCK_TABLE_ENVIRONMENT = 'DCF_RELEASE_LOCK_TABLE';

/** The attributes of that table that its definition names: the partition key and the time-to-live. */
export const RELEASE_LOCK_TABLE_KEYS = {
  /** `S`: `<registry host>/<repository>`. */
  partitionKey: 'lock',
  /** `N`: epoch seconds after which DynamoDB may remove a lock left behind (the table's TTL attribute). */
  timeToLive: 'ttl',
} as const;

/** Runs `work` holding the lock of `host/repository`, and gives the lock up afterwards, also when `work` throws. */
export async function withRepositoryLock<T>(lock: ReleaseLock, host: string, repository: string, work: () => Promise<T>): Promise<T> {
  const held = await lock.acquire(host, repository);
  try {
    return await work();
  } finally {
    await held.release();
  }
}

/** Thrown when a release lock stays held by another writer longer than its timeout. */
export class ReleaseLockTimeoutError extends RegistryError {
  constructor(
    /** `<host>/<repository>`. */
    readonly repository: string,
    /** Where the lock is: the lock file of a {@link FileReleaseLock}, or e.g. a table. */
    readonly file: string,
    /** What the lock says about its holder. */
    readonly holder: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(
      `${repository} is locked by another writer (${holder}) for more than ${Math.round(timeoutMs / 1000)} s (${options?.hint ? file : `lock file ${file}`}). ` +
        (options?.hint ?? `Wait for the other dcf run to finish; if none is running, delete the lock file`),
      options,
    );
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
