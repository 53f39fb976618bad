/** The image tool's refusals: usage errors exit 2, what the registry or the build holds that the SBOM step cannot use exits 1, each saying what to fix. */
import { MEDIA_TYPES, assembleIndex } from '@devcontainer-factory/core';
import { runImageTool } from '../../src/tools/image-tool/image-tool';
import { hostArch, pushTestImage } from '../../../core/test/support/test-image';
import { useLocalRegistry } from '../../../core/test/support/use-local-registry';

jest.setTimeout(60_000);
const local = useLocalRegistry();
const REPO = 'team/builds/python';
const BUILD = '0123456789abcdef';

async function tool(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runImageTool(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const common = () => ['--registry', local.host, '--repository', REPO, '--platform', `linux/${hostArch()}`];

let digest: string;
beforeAll(async () => {
  digest = (await pushTestImage(local.host, REPO, `${BUILD}-${hostArch()}`, hostArch())).digest;
  const index = await assembleIndex(local.registry, REPO, BUILD, [`linux/${hostArch()}`]);
  await local.registry.putManifest(REPO, BUILD, MEDIA_TYPES.ociIndex, index.body);
});

test('resolve prints the digest of the per-arch image a tag names', async () => {
  expect(await tool(['resolve', ...common(), '--tag', `${BUILD}-${hostArch()}`])).toEqual({ code: 0, out: digest, err: '' });
});

test.each([
  ['no command', [], /usage: image-tool <resolve\|sbom>/],
  ['an unknown command', ['scan'], /usage: image-tool/],
  ['a missing flag', ['resolve', '--registry', 'r'], /missing --tag/],
])('%s is a usage error (exit 2)', async (_name, argv, message) => {
  const r = await tool(argv);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
});

test('resolve refuses an index and a tag that does not exist, saying why', async () => {
  const index = await tool(['resolve', ...common(), '--tag', BUILD]);
  expect(index.code).toBe(1);
  expect(index.err).toContain(`${local.host}/${REPO}:${BUILD} is an index, not an image manifest`);
  const missing = await tool(['resolve', ...common(), '--tag', 'nope-amd64']);
  expect(missing.code).toBe(1);
  expect(missing.err).toContain(`${local.host}/${REPO}:nope-amd64 does not exist: Build pushes it before its SBOM is made`);
});

test('sbom refuses a bad digest or build id (exit 2) and a missing input record or generator (exit 1) before it reads the image', async () => {
  const sbom = (flags: Record<string, string>, env: Record<string, string> = {}) =>
    tool(['sbom', ...common(), ...Object.entries({ digest, build: BUILD, rootfs: '/nonexistent', plugins: '/nonexistent', ...flags }).flatMap(([k, v]) => [`--${k}`, v])], env);
  expect(await sbom({ digest: 'latest' })).toMatchObject({ code: 2, err: expect.stringContaining("--digest must be a sha256:<64 hex> digest, got 'latest'") });
  expect(await sbom({ build: 'x' })).toMatchObject({ code: 2, err: expect.stringContaining("--build must be the 16 hex digits of #{Prepare.BuildId}, got 'x'") });
  expect(await sbom({})).toMatchObject({ code: 1, err: expect.stringContaining("BUILD_INPUTS is not the build's input record") });
  const inputs = { BUILD_INPUTS: `configuration@sha256:${'c'.repeat(64)}` };
  expect(await sbom({}, inputs)).toMatchObject({ code: 1, err: expect.stringContaining(`/nonexistent has no Trivy for ${hostArch()}: unpack the cdxgen plugins package for this architecture there`) });
});
