import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import {
  BuildInputError,
  DEVCONTAINER_ARTIFACT,
  FileReleaseLock,
  InvalidConfigurationError,
  prepareImage,
  prepareSummary,
  publishFeature,
  repositoryName,
  type DevcontainerCli,
  type Registry,
} from '../../src';
import { featureUpload } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';

// Prepare checks the options devcontainer.json gives an OCI feature against the
// definition of the artifact the build will install: a feature published by the real
// devcontainer CLI into a real registry, read back at the digest Prepare resolved.

jest.setTimeout(120_000);
const NS = 'acme';
const IMAGE = 'acme/images/tools';
const devcontainer: DevcontainerCli = { command: join(__dirname, '../../../../node_modules/.bin/devcontainer') };
const COLOR_OPTIONS = {
  favorite: { type: 'string', enum: ['red', 'gold', 'green'], default: 'red' },
  install: { type: 'boolean', default: false },
};

const live = useLocalRegistry();
const colorRepository = repositoryName(NS, 'feature', 'color');
let published: string;
let locks: string;

beforeAll(async () => {
  locks = await mkdtemp(join(tmpdir(), 'dcf-prepare-options-'));
  const upload = featureUpload('color', '1.0.0', { metadata: { options: COLOR_OPTIONS } });
  published = (await publishFeature({ registry: live.registry, namespace: NS, id: 'color', upload, devcontainer, lock: new FileReleaseLock({ dir: locks }) }))
    .digest;
});
afterAll(async () => {
  await rm(locks, { recursive: true, force: true });
});

/** A configuration on a factory base, installing the color feature with `options`; `lock` adds a lockfile. */
function configZip(options: unknown, feature = '${localEnv:DCF_REGISTRY}/acme/features/color:1', lock?: object): Uint8Array {
  const config = JSON.stringify({ image: 'mcr.microsoft.com/devcontainers/base:bookworm', features: { [feature]: options } }, null, 2);
  const files: Record<string, Uint8Array> = { '.devcontainer/devcontainer.json': strToU8(config) };
  if (lock) files['.devcontainer/devcontainer-lock.json'] = strToU8(JSON.stringify(lock, null, 2));
  return zipSync(files, { mtime: new Date('2020-01-01T00:00:00Z') });
}

/** Base images come from a registry this test does not reach: every tag names one digest there. */
const elsewhere = (host: string): Registry => ({
  host,
  getManifest: async () => undefined,
  manifestDigest: async () => `sha256:${'b'.repeat(64)}`,
  putManifest: async () => {
    throw new Error('Prepare never writes');
  },
  getBlob: async () => {
    throw new Error('no blobs here');
  },
  listTags: async () => [],
});
const prepare = (zip: Uint8Array) =>
  prepareImage(live.registry, {
    zip,
    repository: IMAGE,
    namespace: NS,
    registryFor: (host) => (host === live.host ? live.registry : elsewhere(host)),
    dockerHubCachePrefix: 'acme/docker-hub',
  });

test('GIVEN options the definition allows THEN Prepare says nothing of them', async () => {
  const prepared = await prepare(configZip({ favorite: 'gold', install: true }));

  expect(prepared.inputs.find((i) => i.kind === 'feature')).toEqual({ kind: 'feature', reference: `${live.host}/${colorRepository}:1`, digest: published });
  expect(prepared.warnings).toEqual([]);
});

test('GIVEN an enum miss and a misspelt option THEN Prepare builds, and its summary warns of both with what to write', async () => {
  const prepared = await prepare(configZip({ favorite: 'blue', instal: true }));

  const feature = 'feature ${localEnv:DCF_REGISTRY}/acme/features/color:1';
  expect(prepared.warnings).toEqual([
    expect.stringMatching(
      new RegExp(`^${escape(feature)}: option "favorite" is "blue", which is not one of the values the option allows \\("red", "gold", "green"\\)`),
    ),
    expect.stringMatching(new RegExp(`^${escape(feature)}: .*"instal".*"install"`)),
  ]);
  expect(prepareSummary(prepared)).toContain(`; warning: ${prepared.warnings[0]}`);
});

test("GIVEN an object as an option value, on which the CLI fails THEN Prepare refuses the configuration at the feature's line, and says so before any build", async () => {
  const error = await prepare(configZip({ favorite: { color: 'red' } })).catch((e: Error) => e);

  expect(error).toBeInstanceOf(InvalidConfigurationError);
  expect((error as InvalidConfigurationError).problems).toEqual([
    { file: '.devcontainer/devcontainer.json', line: 4, message: expect.stringContaining('"Cannot convert object to primitive value"') },
  ]);
});

test('GIVEN a feature published without the metadata annotation (an older CLI) THEN the definition is read from its layer, and the options are checked all the same', async () => {
  // GIVEN the published manifest, stored again without its annotations
  const stored = (await live.registry.getManifest(colorRepository, published))!;
  const manifest = JSON.parse(stored.body.toString('utf8')) as { annotations?: Record<string, string> };
  expect(manifest.annotations?.[DEVCONTAINER_ARTIFACT.metadataAnnotation]).toBeDefined();
  delete manifest.annotations;
  const bare = await live.registry.putManifest(colorRepository, undefined, stored.mediaType, Buffer.from(JSON.stringify(manifest)));

  // WHEN
  const prepared = await prepare(configZip({ favorite: 'blue' }, `\${localEnv:DCF_REGISTRY}/acme/features/color@${bare}`));

  // THEN
  expect(prepared.warnings).toEqual([expect.stringContaining('option "favorite" is "blue"')]);
});

test('GIVEN a lockfile that locks the feature to a digest its registry does not have THEN Prepare fails naming it: the build could not install it', async () => {
  const missing = `sha256:${'0'.repeat(64)}`;
  const feature = `${live.host}/${colorRepository}:1`;
  const lock = { features: { [feature]: { version: '1.0.0', resolved: `${live.host}/${colorRepository}@${missing}`, integrity: missing } } };

  const error = await prepare(configZip({}, feature, lock)).catch((e: Error) => e);

  expect(error).toBeInstanceOf(BuildInputError);
  expect((error as Error).message).toBe(
    `the feature ${feature} resolves to ${live.host}/${colorRepository}@${missing}, which does not exist: the build could not install it; publish it again, or fix the reference (or the lockfile) in the configuration`,
  );
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('GIVEN a reference to something that is not a feature THEN Prepare fails naming it: its options cannot be judged, and the build could not install it', async () => {
  await pushTestImage(live.host, 'acme/features/notafeature', '1', 'amd64');
  const feature = `${live.host}/acme/features/notafeature:1`;

  const error = await prepare(configZip({ favorite: 'red' }, feature)).catch((e: Error) => e);

  expect(error).toBeInstanceOf(BuildInputError);
  expect((error as Error).message).toMatch(
    new RegExp(
      `^cannot read the definition of the feature ${escape(feature)} \\(.*\\) to check the options given to it: .* has no 'application/vnd\\.devcontainers\\.layer\\.v1\\+tar' layer`,
    ),
  );
});

test('GIVEN a released build THEN Prepare reads no feature definition: nothing is installed again', async () => {
  // GIVEN the build id of an upload, released
  const zip = configZip({ favorite: 'blue' });
  const { buildId } = await prepare(zip);
  await pushTestImage(live.host, IMAGE, buildId, 'amd64', { content: 'released' });
  await pushTestImage(live.host, IMAGE, 'latest', 'amd64', { content: 'released' });
  const reads: string[] = [];
  const counting: Registry = Object.assign(Object.create(live.registry) as Registry, {
    getManifest: (repository: string, reference: string) => (reads.push(`${repository}@${reference}`), live.registry.getManifest(repository, reference)),
  });

  // WHEN
  const prepared = await prepareImage(counting, {
    zip,
    repository: IMAGE,
    namespace: NS,
    registryFor: (host) => (host === live.host ? counting : elsewhere(host)),
    dockerHubCachePrefix: 'acme/docker-hub',
  });

  // THEN
  expect(prepared.released).toBe(true);
  expect(prepared.warnings).toEqual([]);
  expect(reads.filter((r) => r.startsWith(colorRepository))).toEqual([]);
});
