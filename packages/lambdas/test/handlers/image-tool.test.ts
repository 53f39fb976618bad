/**
 * The image tool's refusals: usage errors exit 2, what the registry or the build holds that the SBOM step cannot use
 * exits 1, each saying what to fix. The build's input record is `inputs.json` of Prepare's output artifact as CodeBuild
 * unpacks it (`--inputs`), written here from the artifact's own bytes.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  INPUTS_ARTIFACT_FILE,
  MAX_BUILD_INPUTS,
  MEDIA_TYPES,
  assembleIndex,
  encodeInputRecord,
  inputsArtifactBytes,
  readZip,
  type InputRecord,
} from '@devcontainer-factory/core';
import { runImageTool } from '../../src/tools/image-tool/image-tool';
import { hostArch, pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';

jest.setTimeout(60_000);
const local = useLocalRegistry();
const REPO = 'team/builds/python';
const BUILD = '0123456789abcdef';
const d = (c: string) => `sha256:${c.repeat(64)}`;

async function tool(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runImageTool(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const common = () => ['--registry', local.host, '--repository', REPO, '--platform', `linux/${hostArch()}`];

let dir: string;
let files = 0;
/** `inputs.json` where CodeBuild unpacks the Inputs artifact: the file of the zip Prepare writes for `record`, or `text`. */
async function inputsFile(record: InputRecord | string): Promise<string> {
  const folder = join(dir, `src-${++files}`);
  await mkdir(folder);
  const file = join(folder, INPUTS_ARTIFACT_FILE);
  await writeFile(file, typeof record === 'string' ? record : readZip(inputsArtifactBytes(record)).files.get(INPUTS_ARTIFACT_FILE)!);
  return file;
}

let digest: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dcf-image-tool-'));
  digest = (await pushTestImage(local.host, REPO, `${BUILD}-${hostArch()}`, hostArch())).digest;
  const index = await assembleIndex(local.registry, REPO, BUILD, [`linux/${hostArch()}`]);
  await local.registry.putManifest(REPO, BUILD, MEDIA_TYPES.ociIndex, index.body);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('resolve prints the digest of the per-arch image a tag names', async () => {
  expect(await tool(['resolve', ...common(), '--tag', `${BUILD}-${hostArch()}`])).toEqual({ code: 0, out: digest, err: '' });
});

test.each([
  ['no command', [], /usage: image-tool <resolve\|sbom\|docker-hub-bases>/],
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

test('sbom refuses a bad digest or build id (exit 2) and a missing or malformed input record or a missing generator (exit 1) before it reads the image', async () => {
  const sbom = async (flags: Record<string, string>) =>
    tool([
      'sbom',
      ...common(),
      ...Object.entries({
        digest,
        build: BUILD,
        rootfs: '/nonexistent',
        plugins: '/nonexistent',
        inputs: await inputsFile({ configuration: d('c'), inputs: [] }),
        ...flags,
      }).flatMap(([k, v]) => [`--${k}`, v]),
    ]);
  expect(await sbom({ digest: 'latest' })).toMatchObject({ code: 2, err: expect.stringContaining("--digest must be a sha256:<64 hex> digest, got 'latest'") });
  expect(await sbom({ build: 'x' })).toMatchObject({
    code: 2,
    err: expect.stringContaining("--build must be the 16 hex digits of #{Prepare.BuildId}, got 'x'"),
  });
  const missing = join(dir, 'no-such-source', INPUTS_ARTIFACT_FILE);
  expect(await sbom({ inputs: missing })).toMatchObject({
    code: 1,
    err: expect.stringContaining(`cannot read the build's input record ${missing} (ENOENT): Build reads it from Prepare's output artifact`),
  });
  // The one-line form BUILD_INPUTS used to carry is not a record.
  const line = await inputsFile(`configuration@${d('c')}`);
  expect(await sbom({ inputs: line })).toMatchObject({
    code: 1,
    err: expect.stringContaining(`${line} is not the input record Prepare writes (its inputs.json): it is not JSON`),
  });
  expect(await sbom({})).toMatchObject({
    code: 1,
    err: expect.stringContaining(`/nonexistent has no Trivy for ${hostArch()}: unpack the cdxgen plugins package for this architecture there`),
  });
});

test('docker-hub-bases names where the Docker Hub cache serves each Docker Hub base of the build, and leaves out the rest', async () => {
  // GIVEN the input record of a build on Docker Hub images (one pinned by digest), an ECR image and a Docker Hub feature
  const mirror = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/docker-hub';
  const inputs = await inputsFile({
    configuration: d('c'),
    inputs: [
      { kind: 'base', reference: 'python:3.12', digest: d('a') },
      { kind: 'base', reference: 'docker.io/someone/tools', digest: d('b') },
      { kind: 'base', reference: `node@${d('e')}`, digest: d('e') },
      { kind: 'base', reference: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/images/base:latest', digest: d('f') },
      { kind: 'feature', reference: 'someone/feature:1', digest: d('1') },
    ],
  });

  // WHEN
  const r = await tool(['docker-hub-bases', '--mirror', mirror, '--inputs', inputs]);

  // THEN
  expect(r.code).toBe(0);
  expect(r.out.split('\n')).toEqual([`${mirror}/library/python:3.12 python:3.12`, `${mirror}/someone/tools docker.io/someone/tools`]);
  expect(r.err).toBe(
    `node@${d('e')} is pinned by digest: the devcontainer CLI reads its metadata from Docker Hub itself (BuildKit still pulls it through ${mirror})`,
  );
  expect(await tool(['docker-hub-bases', '--mirror', 'docker.io', '--inputs', inputs])).toMatchObject({
    code: 2,
    err: expect.stringContaining("--mirror must be <registry host>/<prefix>, got 'docker.io'"),
  });
  expect(await tool(['docker-hub-bases', '--mirror', mirror])).toMatchObject({ code: 2, err: expect.stringContaining('missing --inputs') });
  // Nothing of the environment is read for the record any more.
  expect(await tool(['docker-hub-bases', '--mirror', mirror], { BUILD_INPUTS: `configuration@${d('c')}` })).toMatchObject({
    code: 2,
    err: expect.stringContaining('missing --inputs'),
  });
});

test(`docker-hub-bases reads a record of ${MAX_BUILD_INPUTS} inputs, far past what a configuration value holds, and refuses one more`, async () => {
  // GIVEN the most inputs a build may have: Docker Hub bases and features, each with its digest (about 140 characters each as one line)
  const mirror = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/docker-hub';
  const record: InputRecord = {
    configuration: d('c'),
    inputs: Array.from({ length: MAX_BUILD_INPUTS }, (_, i) =>
      i % 2
        ? {
            kind: 'feature' as const,
            reference: `ghcr.io/devcontainers-contrib/features/feature-number-${i}:1`,
            digest: `sha256:${String(i).padStart(64, 'f')}`,
          }
        : { kind: 'base' as const, reference: `someone/base-image-number-${i}:1.2.3`, digest: `sha256:${String(i).padStart(64, 'b')}` },
    ),
  };
  expect(encodeInputRecord(record).text.length).toBeGreaterThan(5000);

  // WHEN
  const r = await tool(['docker-hub-bases', '--mirror', mirror, '--inputs', await inputsFile(record)]);

  // THEN every Docker Hub base is named, in the record's order
  expect(r).toMatchObject({ code: 0, err: '' });
  const bases = record.inputs.filter((i) => i.kind === 'base').map((i) => `${mirror}/${i.reference} ${i.reference}`);
  expect(r.out.split('\n')).toEqual(bases);
  expect(bases).toHaveLength(MAX_BUILD_INPUTS / 2);

  // WHEN the record names one input more than a build may have
  const over = JSON.stringify({ ...record, inputs: [...record.inputs, record.inputs[0]] });
  const refused = await tool(['docker-hub-bases', '--mirror', mirror, '--inputs', await inputsFile(over)]);

  // THEN nothing is printed, and the message names the limit
  expect(refused).toMatchObject({
    code: 1,
    out: '',
    err: expect.stringContaining(`lists ${MAX_BUILD_INPUTS + 1} inputs; a build has at most ${MAX_BUILD_INPUTS} (MAX_BUILD_INPUTS)`),
  });
});
