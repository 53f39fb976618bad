import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReleaseLock, NO_RELEASE_LOCK, ReleaseLockTimeoutError, withRepositoryLock } from '../../src/oci/release-lock';

// The lock that serialises writers of one repository in local mode: exclusive
// lock files, stale locks of dead processes broken, bounded waits.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dcf-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('FileReleaseLock', () => {
  test('GIVEN many concurrent holders of one repository WHEN each runs work THEN no two run at the same time, and the lock file is gone afterwards', async () => {
    // GIVEN
    const lock = new FileReleaseLock({ dir, pollMs: 5 });
    let inside = 0;
    let most = 0;
    const order: number[] = [];

    // WHEN
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        withRepositoryLock(lock, 'localhost:5000', 'ns/images/python', async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(3);
          order.push(i);
          inside--;
        }),
      ),
    );

    // THEN
    expect(most).toBe(1);
    expect(order.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(await readdir(dir)).toEqual([]);
  });

  test('GIVEN a held lock WHEN another repository or another registry is locked THEN it does not wait', async () => {
    // GIVEN
    const lock = new FileReleaseLock({ dir, timeoutMs: 200 });
    const held = await lock.acquire('localhost:5000', 'ns/images/python');

    // WHEN
    const other = await lock.acquire('localhost:5000', 'ns/images/node');
    const elsewhere = await lock.acquire('localhost:5001', 'ns/images/python');

    // THEN
    await Promise.all([held.release(), other.release(), elsewhere.release()]);
    expect(await readdir(dir)).toEqual([]);
  });

  test('GIVEN a held lock WHEN another repository is locked THEN it is granted before the wait could even time out once', async () => {
    const lock = new FileReleaseLock({ dir, timeoutMs: 5_000, pollMs: 1_000 });
    const held = await lock.acquire('localhost:5000', 'ns/images/python');
    const started = Date.now();
    const other = await within(1_000, lock.acquire('localhost:5000', 'ns/images/node'));
    expect(other).not.toBe('timed out');
    expect(Date.now() - started).toBeLessThan(1_000);
    await Promise.all([held.release(), (other as Awaited<ReturnType<typeof lock.acquire>>).release()]);
  });

  test('GIVEN a lock held by a live process WHEN the wait runs out THEN ReleaseLockTimeoutError names the repository, the holder and the lock file', async () => {
    // GIVEN
    const lock = new FileReleaseLock({ dir, timeoutMs: 150, pollMs: 10 });
    const held = await lock.acquire('localhost:5000', 'ns/images/python');

    // WHEN
    const waiting = new FileReleaseLock({ dir, timeoutMs: 150, pollMs: 10 }).acquire('localhost:5000', 'ns/images/python');

    // THEN
    await expect(waiting).rejects.toThrow(ReleaseLockTimeoutError);
    await expect(waiting).rejects.toThrow(
      new RegExp(
        `localhost:5000/ns/images/python is locked by another writer \\(pid ${process.pid} on ${hostname()} since .*\\) for more than 0 s \\(lock file ${lock.fileOf('localhost:5000', 'ns/images/python')}\\)`,
      ),
    );
    await held.release();
  });

  test('GIVEN a lock file left by a process that died WHEN the lock is taken THEN the stale lock is broken at once', async () => {
    // GIVEN
    const lock = new FileReleaseLock({ dir, timeoutMs: 2_000 });
    const file = lock.fileOf('localhost:5000', 'ns/images/python');
    await writeFile(file, JSON.stringify({ pid: await deadPid(), host: hostname(), since: '2026-01-01T00:00:00.000Z', token: 'dead', repository: 'x' }));

    // WHEN
    const started = Date.now();
    const held = await lock.acquire('localhost:5000', 'ns/images/python');

    // THEN
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await held.release();
    expect(await readdir(dir)).toEqual([]);
  });

  test('GIVEN a lock of another machine WHEN it is older than staleMs THEN it is broken; younger, it is waited for', async () => {
    // GIVEN
    const file = new FileReleaseLock({ dir }).fileOf('localhost:5000', 'ns/images/python');
    await writeFile(file, JSON.stringify({ pid: 1, host: 'elsewhere.invalid', since: '2026-01-01T00:00:00.000Z', token: 'other', repository: 'x' }));

    // WHEN / THEN
    await expect(new FileReleaseLock({ dir, timeoutMs: 100, staleMs: 60_000 }).acquire('localhost:5000', 'ns/images/python')).rejects.toThrow(
      /pid 1 on elsewhere\.invalid/,
    );
    await sleep(30);
    const held = await new FileReleaseLock({ dir, timeoutMs: 1_000, staleMs: 10 }).acquire('localhost:5000', 'ns/images/python');
    await held.release();
  });

  test('GIVEN work that throws WHEN run under the lock THEN the lock is given up and the error comes through', async () => {
    const lock = new FileReleaseLock({ dir, timeoutMs: 200 });
    await expect(withRepositoryLock(lock, 'h', 'r', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(withRepositoryLock(lock, 'h', 'r', async () => 'again')).resolves.toBe('again');
  });

  test('NO_RELEASE_LOCK never waits: two holders of one repository at once', async () => {
    const a = await NO_RELEASE_LOCK.acquire('h', 'r');
    const b = await within(1_000, NO_RELEASE_LOCK.acquire('h', 'r'));
    expect(b).not.toBe('timed out');
    await Promise.all([a.release(), (b as typeof a).release()]);
  });
});

/** The promise's value, or 'timed out' after `ms`: a test of "does not wait" fails instead of hanging. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
