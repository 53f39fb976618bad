import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MEDIA_TYPES, OciRegistry, SBOM_ARTIFACT_TYPE, listReferrers, type Registry } from '../../src';

// The OCI 1.1 referrers API (as ECR has it) beside the fallback tag (as the distribution registry needs).

const SUBJECT = `sha256:${'a'.repeat(64)}`;
const SBOM = { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'b'.repeat(64)}`, size: 500, artifactType: SBOM_ARTIFACT_TYPE };
const SIGNATURE = { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'c'.repeat(64)}`, size: 600, artifactType: 'application/vnd.cncf.notary.signature' };
let server: Server;
let host: string;
const answers = new Map<string, { status: number; type?: string; body?: string }>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const a = answers.get(req.url ?? '') ?? { status: 404 };
    res.writeHead(a.status, a.type ? { 'Content-Type': a.type } : {});
    res.end(a.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `localhost:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => answers.clear());

test('GIVEN a registry with the referrers API THEN OciRegistry lists what it answers', async () => {
  answers.set(`/v2/ns/images/python/referrers/${SUBJECT}`, {
    status: 200,
    type: MEDIA_TYPES.ociIndex,
    body: JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [SBOM, SIGNATURE] }),
  });
  const registry = new OciRegistry({ host });
  expect(await registry.referrers('ns/images/python', SUBJECT)).toEqual([SBOM, SIGNATURE]);
  // No fallback tag there: listReferrers takes the API's, filtered by artifact type.
  expect(await listReferrers(registry, 'ns/images/python', SUBJECT, SBOM_ARTIFACT_TYPE)).toEqual([SBOM]);
});

test('GIVEN a registry without the API (404) THEN referrers is undefined and listReferrers reads the fallback tag only', async () => {
  const registry = new OciRegistry({ host });
  expect(await registry.referrers('ns/images/python', SUBJECT)).toBeUndefined();
  expect(await listReferrers(registry, 'ns/images/python', SUBJECT)).toEqual([]);
});

test("GIVEN both THEN each referrer is listed once, the fallback tag's first", async () => {
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [SBOM] }));
  const registry: Registry = {
    host: 'fake',
    getManifest: async (_r: string, ref: string) =>
      ref === `sha256-${'a'.repeat(64)}` ? { digest: 'sha256:x', mediaType: MEDIA_TYPES.ociIndex, body: index } : undefined,
    referrers: async () => [SIGNATURE, SBOM],
  } as unknown as Registry;
  expect((await listReferrers(registry, 'ns/images/python', SUBJECT)).map((r) => r.digest)).toEqual([SBOM.digest, SIGNATURE.digest]);
});
