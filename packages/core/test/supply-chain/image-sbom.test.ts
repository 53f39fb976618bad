import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MEDIA_TYPES,
  SBOM_ARTIFACT_TYPE,
  SbomError,
  composeImageSbom,
  listReferrers,
  parseGeneratedSbom,
  storeImageSbom,
  type Descriptor,
  type SbomGenerator,
} from '../../src';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';

// The SBOM step refuses a generator's document it cannot use before it writes anything:
// storeImageSbom on a real CNCF distribution registry, with a generator that writes
// what a test gives it.

jest.setTimeout(60_000);
const local = useLocalRegistry();
const NOW = new Date('2026-12-02T09:00:00Z');
const INPUTS = [{ kind: 'base' as const, reference: 'docker.io/library/debian:bookworm', digest: `sha256:${'b'.repeat(64)}` }];
let round = 0;
let workDir: string;
beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), 'dcf-sbom-'));
});
afterEach(() => rmSync(workDir, { recursive: true, force: true }));

/** A generator that writes `output` as its CycloneDX document. */
const writing = (output: string): SbomGenerator => ({ name: 'test generator', generate: async (_rootfs, file) => writeFile(file, output) });
const bom = (fields: Record<string, unknown>) => JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', ...fields });

async function stagedImage(): Promise<{ repository: string; image: Descriptor }> {
  round++;
  const repository = `devcontainers/builds/sbom-check${round}`;
  const pushed = await pushTestImage(local.host, repository, `b${round}-amd64`, 'amd64');
  const image = { mediaType: MEDIA_TYPES.ociManifest, digest: pushed.digest, size: (await local.registry.getManifest(repository, pushed.digest))!.body.length };
  return { repository, image };
}

const store = (repository: string, image: Descriptor, output: string) =>
  storeImageSbom({
    registry: local.registry,
    repository,
    buildId: `b${round}`,
    platform: 'linux/amd64',
    image,
    inputs: INPUTS,
    generator: writing(output),
    rootfs: '/nonexistent',
    workDir,
    now: NOW,
  });

test('GIVEN a CycloneDX document in shape THEN its SBOM is stored as the one referrer of the image', async () => {
  const { repository, image } = await stagedImage();
  const result = await store(
    repository,
    image,
    bom({ components: [{ type: 'library', name: 'zlib', properties: [{ name: 'aquasecurity:trivy:PkgType', value: 'debian' }] }] }),
  );
  expect([result.packages, result.bases]).toEqual([1, 1]);
  expect((await listReferrers(local.registry, repository, image.digest, SBOM_ARTIFACT_TYPE)).map((r) => r.digest)).toEqual([result.referrer.digest]);
});

describe('a document the factory cannot use is refused with SbomError, and no referrer is stored', () => {
  test.each([
    ['a null component', bom({ components: [{ type: 'library', name: 'zlib' }, null] }), 'components[1] is null, not a component object'],
    [
      'a string component',
      bom({ components: ['pkg:deb/debian/zlib@1.2.13'] }),
      'components[0] is a string ("pkg:deb/debian/zlib@1.2.13"), not a component object',
    ],
    ['a number component', bom({ components: [7] }), 'components[0] is a number (7), not a component object'],
    ['a list component', bom({ components: [[]] }), 'components[0] is a list ([]), not a component object'],
    [
      'components as one object',
      bom({ components: { type: 'library', name: 'zlib' } }),
      'components is an object ({"type":"library","name":"zlib"}), not a list of components',
    ],
    ['components as null', bom({ components: null }), 'components is null, not a list of components'],
    ['a component without a type', bom({ components: [{ name: 'zlib' }] }), 'components[0].type is missing, not a string'],
    ['a component whose name is a number', bom({ components: [{ type: 'library', name: 1 }] }), 'components[0].name is a number (1), not a string'],
    [
      'properties as a string',
      bom({ components: [{ type: 'library', name: 'zlib', properties: 'x' }] }),
      'components[0].properties is a string ("x"), not a list of properties',
    ],
    [
      'a null property',
      bom({ components: [{ type: 'library', name: 'zlib', properties: [null] }] }),
      'components[0].properties[0] is null, not a property object',
    ],
    [
      'a property value that is a number',
      bom({ components: [{ type: 'library', name: 'zlib', properties: [{ name: 'n', value: 1 }] }] }),
      'components[0].properties[0].value is a number (1), not a string',
    ],
    ['metadata as a string', bom({ metadata: 'trivy' }), 'metadata is a string ("trivy"), not an object'],
    ['tools as a string', bom({ metadata: { tools: 'trivy' } }), 'metadata.tools is a string ("trivy"), not an object or a list'],
    ['a null tool component', bom({ metadata: { tools: { components: [null] } } }), 'metadata.tools.components[0] is null, not a component object'],
    ['JSON null', 'null', 'did not write a CycloneDX document: it wrote null'],
    ['a JSON string', '"CycloneDX"', 'did not write a CycloneDX document: it wrote a string ("CycloneDX")'],
    ['a JSON list', '[]', 'did not write a CycloneDX document: it wrote a list ([])'],
    ['SPDX', JSON.stringify({ spdxVersion: 'SPDX-2.3' }), 'did not write a CycloneDX document: its bomFormat is missing'],
    ['not JSON', '{"bomFormat": "CycloneDX",', 'test generator did not write JSON'],
  ])('GIVEN %s THEN storeImageSbom throws SbomError naming it and the image has no SBOM', async (_, output, message) => {
    const { repository, image } = await stagedImage();
    const tagsBefore = await tagSnapshot(local.registry, repository);

    const refused = await store(repository, image, output).catch((e: unknown) => e);

    expect(refused).toBeInstanceOf(SbomError);
    expect((refused as Error).message).toContain(message);
    expect(await listReferrers(local.registry, repository, image.digest)).toEqual([]);
    // Not even the fallback tag of the referrers (sha256-<hex>) was written.
    expect(await tagSnapshot(local.registry, repository)).toEqual(tagsBefore);
  });
});

test('GIVEN CycloneDX 1.4 tools (a list) THEN they are accepted and not read', () => {
  const parsed = parseGeneratedSbom(Buffer.from(bom({ metadata: { tools: [{ vendor: 'aquasecurity', name: 'trivy' }] }, components: [] })), 'g');
  expect(() =>
    composeImageSbom({
      subject: { host: 'localhost:5000', repository: 'r/x', buildId: 'b', platform: 'linux/amd64', digest: `sha256:${'a'.repeat(64)}` },
      inputs: [],
      os: parsed,
      now: NOW,
    }),
  ).not.toThrow();
});

test('property: GIVEN random JSON in the fields the SBOM step reads THEN it is parsed and composed, or refused with SbomError, never a TypeError', () => {
  let seed = 99;
  // A small linear congruential generator, seeded: a failure names a case that runs again.
  const r = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const keys = ['type', 'name', 'properties', 'value', 'components', 'tools', 'metadata', 'version', 'purl'];
  const values = (depth = 0): unknown => {
    const pick = Math.floor(r() * (depth > 2 ? 6 : 9));
    if (pick < 6) return [null, true, 7, 'library', '', undefined][pick];
    if (pick === 6) return Array.from({ length: Math.floor(r() * 3) }, () => values(depth + 1));
    return Object.fromEntries(keys.filter(() => r() < 0.4).map((k) => [k, values(depth + 1)]));
  };
  const subject = { host: 'localhost:5000', repository: 'r/x', buildId: 'b', platform: 'linux/amd64', digest: `sha256:${'a'.repeat(64)}` };
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const doc = { bomFormat: 'CycloneDX', specVersion: '1.6', components: values(), metadata: r() < 0.5 ? values() : { tools: values() } };
    const bytes = Buffer.from(JSON.stringify(doc));
    try {
      const os = parseGeneratedSbom(bytes, 'g');
      JSON.parse(composeImageSbom({ subject, inputs: INPUTS, os, now: NOW }).toString('utf8'));
    } catch (e) {
      if (!(e instanceof SbomError)) throw new Error(`case ${i} (${bytes.toString('utf8').slice(0, 300)}) threw ${String(e)}`);
      refused++;
    }
  }
  expect(refused).toBeGreaterThan(100);
  expect(refused).toBeLessThan(3000);
});
