import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileReleaseLock,
  OciRegistry,
  readPublishedFeature,
  repositoryName,
  startLocalRegistryServer,
  type LocalRegistryServer,
} from '@devcontainer-factory/core';
import { runLocalFeature, type LocalFeatureResult } from '../../src/local/feature-stages';

// Two `dcf local` feature runs publishing one version with different content at
// once, against one real registry: the version guard runs under the namespace's
// lock, so exactly one publishes and the other fails its version guard.

jest.setTimeout(180_000);
const NS = 'devcontainers';
const devcontainer = { command: join(__dirname, '../../../../node_modules/.bin/devcontainer') };

let server: LocalRegistryServer;
let work: string;
beforeAll(async () => {
  server = await startLocalRegistryServer({});
  work = await mkdtemp(join(tmpdir(), 'dcf-local-feature-race-'));
});
afterAll(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

async function featureDir(name: string, id: string, install: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'devcontainer-feature.json'), JSON.stringify({ id, version: '1.0.0', name: 'Racer' }));
  await writeFile(join(dir, 'install.sh'), `#!/bin/sh\n${install}\n`, { mode: 0o755 });
  return dir;
}

test('GIVEN two local feature runs of one version with different content at once, 2 rounds, THEN exactly one is published and the other fails its version guard', async () => {
  const registry = new OciRegistry({ host: server.host });
  const lockDir = join(work, 'locks');
  await mkdir(lockDir);
  const releaseLock = new FileReleaseLock({ dir: lockDir });
  for (let round = 0; round < 2; round++) {
    // GIVEN
    const id = `racer${round}`;
    const dirs = [await featureDir(`${id}-a`, id, 'echo a'), await featureDir(`${id}-b`, id, 'echo b')];

    // WHEN
    const results: LocalFeatureResult[] = await Promise.all(
      dirs.map((dir, i) =>
        runLocalFeature({
          feature: { id, dir },
          registry,
          namespace: NS,
          devcontainer,
          workDir: join(work, `w-${id}-${i}`),
          listener: () => undefined,
          now: Date.now,
          releaseLock,
        }),
      ),
    );

    // THEN
    expect(results.map((r) => r.status).sort()).toEqual(['failed', 'published']);
    const winner = results.findIndex((r) => r.status === 'published');
    const loser = results[1 - winner];
    expect(loser.stages.find((s) => s.status === 'failed')).toMatchObject({
      stage: 'version guard',
      detail: expect.stringMatching(/1\.0\.0 is already published with different content/),
    });
    const stored = await readPublishedFeature(registry, repositoryName(NS, 'feature', id), '1.0.0');
    expect(stored!.digest).toBe(results[winner].digest);
    expect(Buffer.from(stored!.content.get('install.sh')!.data).toString()).toContain(winner === 0 ? 'echo a' : 'echo b');
  }
  expect(await readdir(lockDir)).toEqual([]);
});
