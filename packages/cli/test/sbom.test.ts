/** `dcf sbom`: the SBOM of a released image, read from a real registry (a local one, and one standing in for ECR). */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import {
  MEDIA_TYPES,
  SBOM_ARTIFACT_TYPE,
  assembleIndex,
  attachArtifact,
  parameterNames,
  repositoryName,
  sha256Digest,
  type Descriptor,
} from '@devcontainer-factory/core';
import { ExitCode } from '../src';
import { resetMocks, ssmMock } from './support/factory-mocks';
import { Workspace } from './support/harness';
import { useLocalRegistry } from '@devcontainer-factory/testing';
import { hostArch, pushTestImage } from '@devcontainer-factory/testing';

jest.setTimeout(60_000);
const NS = 'team-sbom';
const local = useLocalRegistry();
const ecrMock = mockClient(ECRClient);
const BUILD = 'a1b2c3d4e5f60718';
const OTHER_ARCH = hostArch() === 'amd64' ? 'arm64' : 'amd64';
/** The platform of an arch as the index names it (the test images of arm64 are arm64/v8). */
const platformOf = (arch: string) => (arch === 'arm64' ? 'linux/arm64/v8' : `linux/${arch}`);
const HOST_PLATFORM = platformOf(hostArch());

/** A CycloneDX document as a generator writes it: its own layout, non-ASCII text, no final newline. */
function sbomFixture(arch: string, components: number): Buffer {
  const bom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: { component: { type: 'container', name: `python ${arch}`, description: 'Café ☕ image' } },
    components: Array.from({ length: components }, (_, i) => ({
      type: 'library',
      name: `pkg-${i}`,
      version: `1.${i}`,
      purl: `pkg:deb/debian/pkg-${i}@1.${i}?arch=${arch}`,
    })),
  };
  return Buffer.from(JSON.stringify(bom, null, '\t'));
}

const SBOM = { [hostArch()]: sbomFixture(hostArch(), 130), [OTHER_ARCH]: sbomFixture(OTHER_ARCH, 7) } as Record<string, Buffer>;
const perArch: Record<string, Descriptor> = {};
let sbomDigest: Record<string, string> = {};

/** Pushes `<build>-<arch>` for each arch, the index under `<build>` and `tags`; returns the per-arch descriptors by arch. */
async function release(id: string, archs: readonly ('amd64' | 'arm64')[], tags: readonly string[]): Promise<Record<string, Descriptor>> {
  const repository = repositoryName(NS, 'image', id);
  for (const arch of archs) await pushTestImage(local.host, repository, `${BUILD}-${arch}`, arch);
  const index = await assembleIndex(
    local.registry,
    repository,
    BUILD,
    archs.map((a) => `linux/${a}`),
  );
  for (const tag of tags) await local.registry.putManifest(repository, tag, MEDIA_TYPES.ociIndex, index.body);
  return Object.fromEntries(index.manifests.map((m) => [m.platform!.architecture, m]));
}

let ws: Workspace;
beforeAll(async () => {
  Object.assign(perArch, await release('python', ['amd64', 'arm64'], ['latest', '1.2.3']));
  sbomDigest = {};
  for (const arch of ['amd64', 'arm64']) {
    const referrer = await attachArtifact(local.registry, repositoryName(NS, 'image', 'python'), perArch[arch], {
      artifactType: SBOM_ARTIFACT_TYPE,
      mediaType: SBOM_ARTIFACT_TYPE,
      bytes: SBOM[arch],
    });
    sbomDigest[arch] = referrer.digest;
  }
  // An image of one platform, with an SBOM, and one released before SBOMs were made.
  const single = await release('node', ['amd64'], ['latest']);
  await attachArtifact(local.registry, repositoryName(NS, 'image', 'node'), single.amd64, {
    artifactType: SBOM_ARTIFACT_TYPE,
    mediaType: SBOM_ARTIFACT_TYPE,
    bytes: SBOM.amd64,
  });
  await release('bare', ['amd64'], ['latest']);
});
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.cleanup());

const sbom = (...args: string[]) => ws.run(['-n', NS, 'sbom', ...args]);

describe('from a local registry', () => {
  test("prints the exact bytes of the SBOM of this machine's platform, and says on stderr which one and how many components", async () => {
    // WHEN
    const run = await sbom('python', '--registry', local.host);

    // THEN
    expect(run.code).toBe(ExitCode.Ok);
    expect(Buffer.from(run.stdout, 'utf8').equals(SBOM[hostArch()])).toBe(true);
    expect(run.stderr).toContain(`platform ${HOST_PLATFORM} (this machine's; python:latest also has ${platformOf(OTHER_ARCH)}: pass --platform for another)`);
    expect(run.stderr).toContain(`python:latest ${HOST_PLATFORM} ${perArch[hostArch()].digest}: 130 components (SBOM ${sbomDigest[hostArch()]})`);
  });

  test('--platform and a tag choose another per-arch image', async () => {
    // WHEN
    const run = await sbom(`python:1.2.3`, '--platform', `linux/${OTHER_ARCH}`, '--registry', local.host);

    // THEN
    expect(run.code).toBe(ExitCode.Ok);
    expect(Buffer.from(run.stdout, 'utf8').equals(SBOM[OTHER_ARCH])).toBe(true);
    expect(run.stderr).toBe(`python:1.2.3 ${platformOf(OTHER_ARCH)} ${perArch[OTHER_ARCH].digest}: 7 components (SBOM ${sbomDigest[OTHER_ARCH]})\n`);
  });

  test('an image of one platform takes it, and says so', async () => {
    const run = await sbom('node', '--registry', local.host);
    expect(run.code).toBe(ExitCode.Ok);
    expect(Buffer.from(run.stdout, 'utf8').equals(SBOM.amd64)).toBe(true);
    expect(run.stderr).toContain('platform linux/amd64 (the only platform of node:latest)');
  });

  test("a tag of one per-arch image (not an index) reads that image's SBOM, with the platform of its config", async () => {
    // WHEN
    const run = await sbom(`python:${BUILD}-${OTHER_ARCH}`, '--registry', local.host);
    const wrong = await sbom(`python:${BUILD}-${OTHER_ARCH}`, '--platform', HOST_PLATFORM, '--registry', local.host);

    // THEN
    expect(run.code).toBe(ExitCode.Ok);
    expect(Buffer.from(run.stdout, 'utf8').equals(SBOM[OTHER_ARCH])).toBe(true);
    expect(run.stderr).toContain(`python:${BUILD}-${OTHER_ARCH} ${platformOf(OTHER_ARCH)} ${perArch[OTHER_ARCH].digest}: 7 components`);
    expect(wrong.code).toBe(ExitCode.Aws);
    expect(wrong.stderr).toContain(`has no image for ${HOST_PLATFORM}: it is a single image, for ${platformOf(OTHER_ARCH)}; leave out --platform`);
  });

  test('--json prints the SBOM as the data and nothing on stderr', async () => {
    const run = await ws.run(['-n', NS, '--json', 'sbom', 'python', '--registry', local.host]);
    expect(run.code).toBe(ExitCode.Ok);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(SBOM[hostArch()].toString('utf8')));
  });

  test('--output writes the exact bytes, refuses to overwrite, and overwrites with --force', async () => {
    // WHEN
    const first = await sbom('python', '--registry', local.host, '--output', 'out/python.cdx.json');

    // THEN the folder must exist
    expect(first.code).toBe(ExitCode.Usage);
    expect(first.stderr).toMatch(/the folder of 'out\/python.cdx.json' does not exist/);

    // WHEN
    const written = await sbom('python', '--registry', local.host, '-o', 'python.cdx.json');

    // THEN
    expect(written.code).toBe(ExitCode.Ok);
    expect(readFileSync(ws.path('python.cdx.json')).equals(SBOM[hostArch()])).toBe(true);
    expect(written.stdout).toBe(`✔ wrote python.cdx.json (${SBOM[hostArch()].length} bytes, ${sha256Digest(SBOM[hostArch()])})\n`);
    expect(written.stderr).toContain(`: 130 components (SBOM ${sbomDigest[hostArch()]})`);
    expect(readdirSync(ws.root)).toEqual(['python.cdx.json']);

    // WHEN the file exists
    writeFileSync(ws.path('python.cdx.json'), 'mine');
    const again = await sbom('python', '--registry', local.host, '-o', 'python.cdx.json');

    // THEN it is kept
    expect(again.code).toBe(ExitCode.Usage);
    expect(again.stderr).toMatch(/'python.cdx.json' exists: pass --force to overwrite it/);
    expect(readFileSync(ws.path('python.cdx.json'), 'utf8')).toBe('mine');

    // WHEN --force
    const forced = await ws.run([
      '-n',
      NS,
      '--json',
      'sbom',
      'python',
      '--platform',
      `linux/${OTHER_ARCH}`,
      '--registry',
      local.host,
      '-o',
      'python.cdx.json',
      '--force',
    ]);

    // THEN
    expect(forced.code).toBe(ExitCode.Ok);
    expect(readFileSync(ws.path('python.cdx.json')).equals(SBOM[OTHER_ARCH])).toBe(true);
    expect(JSON.parse(forced.stdout)).toMatchObject({
      id: 'python',
      tag: 'latest',
      repository: repositoryName(NS, 'image', 'python'),
      registry: local.host,
      platform: platformOf(OTHER_ARCH),
      digest: perArch[OTHER_ARCH].digest,
      sbom: { digest: sbomDigest[OTHER_ARCH], mediaType: SBOM_ARTIFACT_TYPE, bytes: SBOM[OTHER_ARCH].length, components: 7 },
      file: ws.path('python.cdx.json'),
    });
    expect(readdirSync(ws.root)).toEqual(['python.cdx.json']);
  });

  test.each([
    [['Python'], ExitCode.Usage, /'Python'.*\(give <id>\[:<tag>\], e\.g\. python or python:1\.2\.3\)/],
    [['python:'], ExitCode.Usage, /'' is not a tag/],
    [['python:a/b'], ExitCode.Usage, /'a\/b' is not a tag/],
    [
      ['python', '--platform', 'windows/amd64'],
      ExitCode.Usage,
      /--platform: platform 'windows\/amd64' is not supported: use one of linux\/amd64, linux\/arm64/,
    ],
    [['python', '--force'], ExitCode.Usage, /--force only applies to --output/],
    [['python', '--registry', 'example.com:5000'], ExitCode.Usage, /--registry: 'example.com:5000' is not a local registry address/],
    [['python', '--registry', 'localhost:1'], ExitCode.Aws, /no registry answers at http:\/\/localhost:1\/v2\//],
  ])('%j exits %i with a message', async (args, code, message) => {
    const run = await sbom(...args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  test('an image that does not exist exits 3 and says to check the id and namespace', async () => {
    const run = await sbom('ruby', '--registry', local.host);
    expect(run.code).toBe(ExitCode.Aws);
    expect(run.stderr).toContain(
      `error: there is no image 'ruby' in ${local.host} (no repository ${repositoryName(NS, 'image', 'ruby')}): check the id and --namespace`,
    );
  });

  test('a tag that does not exist exits 3 and lists the tags there are (without the referrers tags)', async () => {
    const run = await sbom('python:9.9.9', '--registry', local.host);
    expect(run.code).toBe(ExitCode.Aws);
    expect(run.stderr).toContain(
      `error: ${local.host}/${repositoryName(NS, 'image', 'python')} has no tag '9.9.9': it has 1.2.3, ${BUILD}, ${BUILD}-amd64, ${BUILD}-arm64, latest (dcf tags python)`,
    );
  });

  test('an image without an SBOM exits 3: it was released without one', async () => {
    const run = await sbom('bare', '--registry', local.host);
    expect(run.code).toBe(ExitCode.Aws);
    expect(run.stderr).toMatch(/error: bare:latest linux\/amd64 was released without an SBOM: .*has no referrer of type application\/vnd\.cyclonedx\+json/);
    expect(run.stdout).toBe('');
  });

  test('a platform the index does not have exits 3 and lists the platforms it has', async () => {
    const run = await sbom('node', '--platform', 'linux/arm64', '--registry', local.host);
    expect(run.code).toBe(ExitCode.Aws);
    expect(run.stderr).toContain('error: node:latest has no image for linux/arm64: its platforms are linux/amd64; pass one of them to --platform');
  });

  test('--json errors are JSON on stdout', async () => {
    const run = await ws.run(['-n', NS, '--json', 'sbom', 'bare', '--registry', local.host]);
    expect(run.code).toBe(ExitCode.Aws);
    expect(JSON.parse(run.stdout)).toEqual({ error: { exitCode: ExitCode.Aws, message: expect.stringMatching(/was released without an SBOM/) } });
  });
});

describe("from the factory's registry", () => {
  // The local registry behind a proxy that wants ECR's basic credentials, as ECR's Docker endpoint does.
  let proxy: Server;
  let proxyHost: string;
  let authorized = 0;
  const PASSWORD = 'ecr-token-password';
  beforeAll(async () => {
    const [targetHost, targetPort] = local.host.split(':');
    const expected = `Basic ${Buffer.from(`AWS:${PASSWORD}`).toString('base64')}`;
    proxy = createServer((req, res) => {
      if (req.headers.authorization !== expected) {
        req.resume();
        res.writeHead(401, { 'www-authenticate': 'Basic realm="ecr"', 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      authorized++;
      const upstream = request(
        { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: local.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, 'localhost', resolve));
    proxyHost = `localhost:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
  });
  beforeEach(() => {
    resetMocks();
    ecrMock.reset();
    const names = parameterNames(NS);
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.sourceBucketName, Value: 'bucket', Type: 'String' },
        { Name: names.registry, Value: proxyHost, Type: 'String' },
      ],
    });
  });

  test('without --registry it reads the registry of the factory with the credentials of ecr:GetAuthorizationToken', async () => {
    // GIVEN
    ecrMock
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from(`AWS:${PASSWORD}`).toString('base64'), proxyEndpoint: `https://${proxyHost}` }] });

    // WHEN
    const run = await sbom('python', '--platform', HOST_PLATFORM);

    // THEN
    expect(run.code).toBe(ExitCode.Ok);
    expect(Buffer.from(run.stdout, 'utf8').equals(SBOM[hostArch()])).toBe(true);
    expect(authorized).toBeGreaterThan(0);
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
  });

  test('credentials the registry refuses exit 3 with the registry named', async () => {
    // GIVEN
    ecrMock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:wrong').toString('base64') }] });

    // WHEN
    const run = await sbom('python');

    // THEN
    expect(run.code).toBe(ExitCode.Aws);
    expect(run.stderr).toContain(`error: reading ${proxyHost}/${repositoryName(NS, 'image', 'python')} failed: ${proxyHost} refused the credentials`);
    expect(run.stdout).toBe('');
  });

  test('no factory for the namespace exits 3 and names the deploy', async () => {
    ssmMock.on(GetParametersCommand).resolves({ Parameters: [] });
    const run = await sbom('python');
    expect(run.code).toBe(ExitCode.Aws);
    expect(run.stderr).toMatch(/no factory is deployed for namespace 'team-sbom'/);
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(0);
  });

  test('nothing is written when the read fails', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from(`AWS:${PASSWORD}`).toString('base64') }] });
    const run = await sbom('bare', '-o', 'bare.cdx.json');
    expect(run.code).toBe(ExitCode.Aws);
    expect(existsSync(ws.path('bare.cdx.json'))).toBe(false);
    expect(readdirSync(ws.root)).toEqual([]);
  });
});
