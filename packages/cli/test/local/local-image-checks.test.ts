import { createHash } from 'node:crypto';
import { IMAGE_CHECKS, type Registry, type StoredManifest } from '@devcontainer-factory/core';
import type { ContainerEngine } from '../../src/local/container-engine';
import { formatLocalChecks, runLocalImageChecks, type LocalImageCheckProps } from '../../src/local/local-image-checks';

// The checks of the cloud Test stage as `dcf local` runs them, on a registry held in
// memory and a buildah that records its arguments; local-run.test.ts runs them with
// the real buildah on the example catalogue.

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const LABEL = JSON.stringify([{ id: 'feature-a' }, { remoteUser: 'vscode' }]);

/** One image under `<build>`: its manifest and config, as the registry serves them. */
function registryWith(config: Record<string, unknown>): Registry {
  const configBlob = Buffer.from(JSON.stringify(config));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(configBlob), size: configBlob.length },
      layers: [],
    }),
  );
  const stored: StoredManifest = { digest: digest(manifest), mediaType: 'application/vnd.oci.image.manifest.v1+json', body: manifest };
  return {
    host: 'localhost:5000',
    getManifest: async (_repository: string, reference: string) => (reference === 'abc' || reference === stored.digest ? stored : undefined),
    getBlob: async () => configBlob,
  } as unknown as Registry;
}

/** buildah that records each call; `run` answers `uname -m` and test.sh as told. */
function fakeBuildah(o: { machine?: string; testFails?: boolean } = {}) {
  const calls: string[][] = [];
  const engine = {
    buildah: async (...args: string[]) => {
      calls.push(args);
      if (args[0] === 'from') return 'container-1\n';
      if (args[0] === 'run' && args.includes('uname')) return `${o.machine ?? 'x86_64'}\n`;
      if (args[0] === 'run' && args.includes('./test.sh')) {
        if (o.testFails) throw new Error("'buildah run' exited 1: expected hello");
        return 'checking\nall checks passed\n';
      }
      return '';
    },
  } as unknown as ContainerEngine;
  return { engine, calls };
}

const GOOD = { os: 'linux', architecture: 'amd64', config: { Labels: { 'devcontainer.metadata': LABEL } } };

function props(registry: Registry, engine: ContainerEngine, hasTests = true): LocalImageCheckProps {
  return { registry, engine, platform: 'linux/amd64', repository: 'ns/builds/python', buildId: 'abc', srcDir: '/src/python', hasTests };
}

test('runs every check of IMAGE_CHECKS in order; test.sh passes but says how it ran differently from the cloud', async () => {
  // GIVEN
  const { engine, calls } = fakeBuildah();

  // WHEN
  const results = await runLocalImageChecks(props(registryWith(GOOD), engine));

  // THEN
  expect(results.map((r) => r.id)).toEqual(IMAGE_CHECKS.map((c) => c.id));
  expect(results.map((r) => `${r.id} ${r.outcome}: ${r.detail}`)).toEqual([
    'platform passed: linux/amd64',
    'runs passed: uname -m says x86_64',
    'metadata-label passed: 2 entries',
    'test-script passed differently: test-project/test.sh passed ("all checks passed")',
  ]);
  expect(results[3].differs).toMatch(
    /buildah run --isolation chroot .* not in a dev container started by devcontainer up and exec as in the cloud \(that needs a container runtime\): lifecycle commands, feature entrypoints/,
  );
  expect(calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['from --quiet', 'run --isolation', 'copy --quiet', 'run --isolation', 'rm container-1']);
  expect(calls[0].at(-1)).toMatch(/^localhost:5000\/ns\/builds\/python@sha256:[0-9a-f]{64}$/);
  expect(calls[2]).toEqual(['copy', '--quiet', 'container-1', '/src/python/test-project', '/workspaces/test-project']);
  expect(formatLocalChecks('linux/amd64', results)).toBe(
    `linux/amd64: platform: linux/amd64; runs: uname -m says x86_64; metadata-label: 2 entries; test-script: test-project/test.sh passed ("all checks passed"), but ${results[3].differs}`,
  );
});

test('without test-project/test.sh the script check is skipped, and says why', async () => {
  // WHEN
  const results = await runLocalImageChecks(props(registryWith(GOOD), fakeBuildah().engine, false));

  // THEN
  expect(results[3]).toEqual({ id: 'test-script', outcome: 'skipped', detail: 'no test-project/test.sh in the configuration' });
  expect(formatLocalChecks('linux/amd64', results)).toMatch(/; test-script skipped: no test-project\/test\.sh in the configuration$/);
});

test.each([
  [
    'an image of another platform',
    { ...GOOD, architecture: 'arm64' },
    {},
    /^platform: localhost:5000\/ns\/builds\/python@sha256:\w+ is a linux\/arm64 image where linux\/amd64 was expected/,
  ],
  ['another machine in uname -m', GOOD, { machine: 'aarch64' }, /^runs: .* runs as aarch64, expected the machine of linux\/amd64/],
  [
    'no metadata label',
    { ...GOOD, config: { Labels: {} } },
    {},
    /^metadata-label: .* has no devcontainer\.metadata label: it was not built by the devcontainer CLI/,
  ],
  [
    'a metadata label that is not a JSON array',
    { ...GOOD, config: { Labels: { 'devcontainer.metadata': '{}' } } },
    {},
    /^metadata-label: the devcontainer\.metadata label of .* is not a JSON array/,
  ],
  ['a failing test.sh', GOOD, { testFails: true }, /^test-script: test-project\/test\.sh failed: 'buildah run' exited 1: expected hello/],
])('fails on %s with the check and its reason, and removes its container', async (_name, config, buildah, message) => {
  // GIVEN
  const { engine, calls } = fakeBuildah(buildah);

  // WHEN / THEN
  await expect(runLocalImageChecks(props(registryWith(config), engine))).rejects.toThrow(message);
  expect(calls.at(-1)).toEqual(['rm', 'container-1']);
});
