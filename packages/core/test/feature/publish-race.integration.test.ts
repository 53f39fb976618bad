import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DevcontainerCli,
  FeatureVersionConflictError,
  FileReleaseLock,
  publishFeature,
  readPublishedFeature,
  repositoryName,
  type FeaturePublishResult,
} from '../../src';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';
import { featureUpload } from '@devcontainer-factory/testing';

// Two publishes of one feature version at once, with different content, on a real
// registry and the real devcontainer CLI: exactly one is published, the other is
// refused by the version guard, which runs under the namespace's lock.

jest.setTimeout(180_000);
const NS = 'race';
const ROUNDS = 3;
const devcontainer: DevcontainerCli = { command: join(__dirname, '../../../../node_modules/.bin/devcontainer') };

const live = useLocalRegistry();
let locks: string;
beforeAll(async () => {
  locks = await mkdtemp(join(tmpdir(), 'dcf-feature-locks-'));
});
afterAll(async () => {
  await rm(locks, { recursive: true, force: true });
});

type Outcome = { ok: true; result: FeaturePublishResult } | { ok: false; error: Error };

test(`GIVEN two publishes of 1.0.0 with different content at the same time, ${ROUNDS} rounds, THEN exactly one is published and the other fails with FeatureVersionConflictError; the tags hold the winner's content`, async () => {
  const lock = new FileReleaseLock({ dir: locks });
  for (let round = 0; round < ROUNDS; round++) {
    // GIVEN
    const id = `racer${round}`;
    const contents = ['echo first', 'echo second'];

    // WHEN
    const outcomes: Outcome[] = await Promise.all(
      contents.map((install) =>
        publishFeature({ registry: live.registry, namespace: NS, id, upload: featureUpload(id, '1.0.0', { install }), devcontainer, lock }).then(
          (result) => ({ ok: true as const, result }),
          (error: Error) => ({ ok: false as const, error }),
        ),
      ),
    );

    // THEN
    const published = outcomes.filter((o): o is { ok: true; result: FeaturePublishResult } => o.ok);
    expect(published.map((o) => o.result.status)).toEqual(['published']);
    const winner = outcomes.indexOf(published[0]);
    const loser = outcomes[1 - winner] as { ok: false; error: Error };
    expect(loser.error).toBeInstanceOf(FeatureVersionConflictError);
    expect(loser.error.message).toMatch(
      new RegExp(`race/features/${id}:1\\.0\\.0 is already published with different content[\\s\\S]*install\\.sh: content changed`),
    );
    const repository = repositoryName(NS, 'feature', id);
    const digest = published[0].result.digest;
    expect(await tagSnapshot(live.registry, repository)).toEqual({ '1': digest, '1.0': digest, '1.0.0': digest, latest: digest });
    const stored = await readPublishedFeature(live.registry, repository, '1.0.0');
    expect(Buffer.from(stored!.content.get('install.sh')!.data).toString()).toContain(contents[winner]);
  }
  expect(await readdir(locks)).toEqual([]);
});
