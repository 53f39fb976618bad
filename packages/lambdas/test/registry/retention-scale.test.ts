import { applyRetention, planRetention, RETENTION_LIMITS, type ReleaseLock } from '@devcontainer-factory/core';
import { EcrRegistry } from '../../src/registry/ecr-registry';
import { MemoryEcr } from '../support/memory-ecr';
import { releaseHistory } from '../support/release-history';
import { REGISTRY_HOST, noWait } from '../handlers/job-fixtures';

// Retention of a large release repository over ECR's API as EcrRegistry calls it:
// the requests of applying a plan grow with what is deleted, and a run with a
// deadline stops before it and leaves the rest to the next run.

const REPOSITORY = 'devcontainers/images/python';
const NOW = new Date('2026-12-01T00:00:00Z');
/** The lock of one run (the cloud lock is tested on its own); counts how often it is taken. */
function countingLock(): ReleaseLock & { taken: number } {
  const lock = { taken: 0, acquire: async () => ((lock.taken += 1), { release: async () => undefined }) };
  return lock;
}

describe('retention of a release repository of 3,000 tags', () => {
  test('GIVEN 1,000 releases WHEN the plan is applied THEN it reads each manifest once, and takes one tag listing and one BatchDeleteImage per batch of 100, not a listing per delete', async () => {
    // GIVEN
    const ecr = new MemoryEcr();
    releaseHistory(ecr, REPOSITORY, 1000);
    const registry = new EcrRegistry({ client: ecr.client, host: REGISTRY_HOST, retry: noWait });
    const lock = countingLock();
    const options = { kind: 'release', keepDateTags: 10, now: NOW, lock } as const;
    const plan = await planRetention(registry, REPOSITORY, options);
    const manifests = ecr.manifestCount(REPOSITORY);
    ecr.requests.clear();

    // WHEN
    const result = await applyRetention(registry, REPOSITORY, plan);

    // THEN
    const batches = Math.ceil(result.deleted.length / RETENTION_LIMITS.deleteBatch) + 1; // indexes and images never share a batch
    const listingPages = Math.ceil(3000 / 1000) + 1;
    expect(result.deleted.length).toBe(plan.delete.length);
    expect(result.deleted.length).toBeGreaterThan(1900);
    expect(ecr.requests.get('BatchDeleteImageCommand')).toBeLessThanOrEqual(batches);
    expect(ecr.requests.get('ListImagesCommand')).toBeLessThanOrEqual((batches + 1) * listingPages);
    expect(ecr.requests.get('BatchGetImageCommand')).toBeLessThanOrEqual(manifests);
    // Beyond reading each manifest once: about one request per ten deletes (it was a whole listing per delete).
    expect((ecr.total() - ecr.requests.get('BatchGetImageCommand')!) / result.deleted.length).toBeLessThan(0.1);
    expect(lock.taken).toBeLessThanOrEqual(batches);
    // What is left is exactly what the plan keeps.
    expect(ecr.manifestCount(REPOSITORY)).toBe(plan.keep.length);
    expect(ecr.tags(REPOSITORY).get('latest')).toBeDefined();
  });

  test('GIVEN a deadline reached midway WHEN applied THEN it stops before it, says what is left, and the next run deletes exactly that', async () => {
    // GIVEN: every listing page and batch delete takes a second of the run's clock; the deadline is 25 s away.
    const ecr = new MemoryEcr();
    releaseHistory(ecr, REPOSITORY, 1000);
    const registry = new EcrRegistry({ client: ecr.client, host: REGISTRY_HOST, retry: noWait });
    const options = { kind: 'release', keepDateTags: 10, now: NOW, lock: countingLock() } as const;
    const plan = await planRetention(registry, REPOSITORY, options);
    let clock = 0;
    ecr.beforeEach = (command) => void (command !== 'BatchGetImageCommand' && (clock += 1000));
    const deadline = new Date(25_000);

    // WHEN
    const first = await applyRetention(registry, REPOSITORY, options, { deadline, clock: () => new Date(clock) });
    ecr.beforeEach = undefined;
    const left = ecr.manifestCount(REPOSITORY);
    const second = await applyRetention(registry, REPOSITORY, options);

    // THEN
    expect(first.deleted.length).toBeGreaterThan(0);
    expect(first.remaining.length).toBeGreaterThan(0);
    expect(first.deleted.length + first.remaining.length).toBe(plan.delete.length);
    expect(left).toBe(plan.keep.length + first.remaining.length);
    expect(second.deleted.map((e) => e.digest).sort()).toEqual(first.remaining.map((e) => e.digest).sort());
    expect(second.remaining).toEqual([]);
    expect(ecr.manifestCount(REPOSITORY)).toBe(plan.keep.length);
  });

  test('GIVEN a BatchDeleteImage that refuses one image WHEN applied THEN RetentionIncompleteError names it, and what was deleted before stays deleted', async () => {
    // GIVEN: an index outside the plan's view references an image the plan deletes.
    const ecr = new MemoryEcr();
    releaseHistory(ecr, REPOSITORY, 300);
    const registry = new EcrRegistry({ client: ecr.client, host: REGISTRY_HOST, retry: noWait });
    const options = { kind: 'release', keepDateTags: 10, now: NOW, lock: countingLock() } as const;
    const plan = await planRetention(registry, REPOSITORY, options);
    const victim = plan.delete.find((e) => e.kind === 'image')!;
    ecr.put(
      REPOSITORY,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: victim.digest, size: 1 }],
      }),
      'application/vnd.oci.image.index.v1+json',
    );

    // WHEN
    const error = await applyRetention(registry, REPOSITORY, plan).then(
      () => undefined,
      (e: unknown) => e as Error & { deleted: string[]; notDeleted: string[] },
    );

    // THEN
    expect(error?.message).toMatch(/ImageReferencedByManifestList/);
    expect(error?.notDeleted).toContain(victim.digest);
    expect(error?.deleted.length).toBeGreaterThan(0);
    expect(error?.deleted).not.toContain(victim.digest);
    for (const digest of error!.deleted) expect([...ecr.tags(REPOSITORY).values()]).not.toContain(digest);
  });
});
