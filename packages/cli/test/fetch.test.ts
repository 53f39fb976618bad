/** `dcf fetch`: the configuration zip a released image was built from, read from a real registry. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  CONFIGURATION_ARTIFACT_TYPE,
  INPUTS_ANNOTATION,
  MEDIA_TYPES,
  assembleIndex,
  encodeInputRecord,
  manifestImage,
  releaseImage,
  repositoryName,
  sha256Digest,
  stagingRepositoryName,
  storeImageConfiguration,
  writeZip,
} from '@devcontainer-factory/core';
import { ExitCode } from '../src';
import { Workspace } from './support/harness';
import { useLocalRegistry } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';

jest.setTimeout(60_000);
const NS = 'team-fetch';
const local = useLocalRegistry();
const BUILD = 'f1e2d3c4b5a69788';
const OLD_BUILD = '0011223344556677';
/** A configuration zip as dcf push writes it. */
const ZIP = Buffer.from(
  writeZip({
    files: new Map([
      [
        '.devcontainer/devcontainer.json',
        Buffer.from('{ "image": "mcr.microsoft.com/devcontainers/base:bookworm", "customizations": { "devcontainer-factory": { "version": "1.2.3" } } }\n'),
      ],
      ['test-project/test.sh', Buffer.from('#!/bin/sh\necho ok\n')],
    ]),
    executables: new Set(['test-project/test.sh']),
  }),
);
let index: { digest: string };
let amd64: string;

/** Builds and releases `id` as the pipeline does: the index in staging with its configuration, promoted into the release repository. */
async function releaseWithConfiguration(id: string, zip: Buffer, version: string): Promise<{ digest: string }> {
  const staging = stagingRepositoryName(NS, id);
  await pushTestImage(local.host, staging, `${BUILD}-amd64`, 'amd64', { content: `${id} ${version}` });
  await manifestImage(local.registry, {
    repository: staging,
    buildId: BUILD,
    platforms: ['linux/amd64'],
    inputs: encodeInputRecord({ configuration: sha256Digest(zip), inputs: [] }),
    configuration: zip,
  });
  const released = await releaseImage(local.registry, repositoryName(NS, 'image', id), {
    buildId: BUILD,
    staging,
    version,
    rules: { latest: true, semver: true, date: false },
    now: new Date(),
  });
  return { digest: released.digest };
}

let ws: Workspace;
beforeAll(async () => {
  index = await releaseWithConfiguration('python', ZIP, '1.2.3');
  amd64 = (await local.registry.getManifest(repositoryName(NS, 'image', 'python'), `${BUILD}-amd64`))!.digest;
  // An image released before the factory kept configurations: an index and its tag, no referrer.
  const legacy = repositoryName(NS, 'image', 'legacy');
  await pushTestImage(local.host, legacy, `${OLD_BUILD}-amd64`, 'amd64');
  const old = await assembleIndex(local.registry, legacy, OLD_BUILD, ['linux/amd64']);
  await local.registry.putManifest(legacy, 'latest', MEDIA_TYPES.ociIndex, old.body);
  // An image whose kept zip is not the one its index records (damaged, or written by something else).
  const tampered = repositoryName(NS, 'image', 'tampered');
  await pushTestImage(local.host, tampered, `${OLD_BUILD}-amd64`, 'amd64', { content: 'tampered' });
  const recorded = await assembleIndex(local.registry, tampered, OLD_BUILD, ['linux/amd64'], {
    [INPUTS_ANNOTATION]: encodeInputRecord({ configuration: sha256Digest(ZIP), inputs: [] }).text,
  });
  await local.registry.putManifest(tampered, 'latest', MEDIA_TYPES.ociIndex, recorded.body);
  await storeImageConfiguration(
    local.registry,
    tampered,
    { mediaType: recorded.mediaType, digest: recorded.digest, size: recorded.body.length },
    Buffer.from('not the zip'),
    OLD_BUILD,
  );
});
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.cleanup());

const fetch = (...args: string[]) => ws.run(['-n', NS, 'fetch', ...args, '--registry', local.host]);

test('writes <id>.zip with the exact bytes the release was built from, and says which image and digest', async () => {
  // WHEN
  const run = await fetch('python');

  // THEN
  expect(run.code).toBe(ExitCode.Ok);
  expect(readFileSync(ws.path('python.zip')).equals(ZIP)).toBe(true);
  expect(run.stdout).toBe(`✔ wrote python.zip (${ZIP.length} B, ${sha256Digest(ZIP)})\n`);
  expect(run.stderr).toBe(
    `python:latest ${index.digest} (build ${BUILD}): configuration ${sha256Digest(ZIP)}, ${ZIP.length} B, matches the digest the index records\n`,
  );
  expect(readdirSync(ws.root)).toEqual(['python.zip']);
});

test('a tag or the index digest names the release; -o names the file', async () => {
  const byTag = await fetch('python:1.2.3', '-o', 'shipped.zip');
  const byDigest = await fetch(`python@${index.digest}`, '--output', 'by-digest.zip');
  expect([byTag.code, byDigest.code]).toEqual([ExitCode.Ok, ExitCode.Ok]);
  expect(readFileSync(ws.path('shipped.zip')).equals(ZIP)).toBe(true);
  expect(readFileSync(ws.path('by-digest.zip')).equals(ZIP)).toBe(true);
});

test('refuses to overwrite an existing file, keeps it, and overwrites it with --force', async () => {
  // GIVEN
  writeFileSync(ws.path('python.zip'), 'mine');

  // WHEN
  const refused = await fetch('python');

  // THEN
  expect(refused.code).toBe(ExitCode.Usage);
  expect(refused.stderr).toMatch(/'python.zip' exists: pass --force to overwrite it, or another --output/);
  expect(readFileSync(ws.path('python.zip'), 'utf8')).toBe('mine');

  // WHEN
  const forced = await fetch('python', '--force');

  // THEN
  expect(forced.code).toBe(ExitCode.Ok);
  expect(readFileSync(ws.path('python.zip')).equals(ZIP)).toBe(true);
  expect(readdirSync(ws.root)).toEqual(['python.zip']);
});

test('refuses an --output that is a folder or whose folder is missing, before reading anything', async () => {
  mkdirSync(ws.path('dir'));
  const folder = await fetch('python', '-o', 'dir');
  const missing = await fetch('python', '-o', 'nowhere/python.zip');
  expect(folder.code).toBe(ExitCode.Usage);
  expect(folder.stderr).toMatch(/'dir' is a folder: pass the path of the file to write, e.g. --output dir\/python.zip/);
  expect(missing.code).toBe(ExitCode.Usage);
  expect(missing.stderr).toMatch(/the folder of 'nowhere\/python.zip' does not exist/);
});

test('an image released before configurations were kept exits 3, says so, and writes nothing', async () => {
  const run = await fetch('legacy');
  expect(run.code).toBe(ExitCode.Aws);
  expect(run.stderr).toMatch(
    new RegExp(
      `error: legacy:latest \\(sha256:[0-9a-f]{64}\\) has no configuration kept with it: .* has no referrer of type ${CONFIGURATION_ARTIFACT_TYPE.replace(/[.+]/g, '\\$&')} for it; it was released before the factory kept configurations`,
    ),
  );
  expect(existsSync(ws.path('legacy.zip'))).toBe(false);
});

test('a kept zip that is not the one the index records exits 3 and writes nothing', async () => {
  const run = await fetch('tampered');
  expect(run.code).toBe(ExitCode.Aws);
  expect(run.stderr).toMatch(
    /records its configuration as sha256:[0-9a-f]{64}, but none of its 1 configuration referrer\(s\) holds that zip.*; nothing was written/,
  );
  expect(readdirSync(ws.root)).toEqual([]);
});

test('a per-arch image exits 2 and names the index to fetch instead', async () => {
  const run = await fetch(`python@${amd64}`);
  expect(run.code).toBe(ExitCode.Usage);
  expect(run.stderr).toContain(`python@${amd64} is a per-arch image (${amd64}), not the image index a configuration is kept with`);
});

test('--json prints what was written', async () => {
  const run = await ws.run(['-n', NS, '--json', 'fetch', 'python:1.2.3', '--registry', local.host]);
  expect(run.code).toBe(ExitCode.Ok);
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual({
    id: 'python',
    tag: '1.2.3',
    repository: repositoryName(NS, 'image', 'python'),
    registry: local.host,
    digest: index.digest,
    build: BUILD,
    configuration: { digest: sha256Digest(ZIP), bytes: ZIP.length, referrer: expect.stringMatching(/^sha256:/), recorded: true },
    file: ws.path('python.zip'),
  });
});

test.each([
  [['Python'], ExitCode.Usage, /'Python'.*\(give <id>\[:<tag>\|@<digest>\], e\.g\. python, python:1\.2\.3 or python@sha256:…\)/],
  [['python@sha256:abc'], ExitCode.Usage, /'sha256:abc' is not a digest/],
  [['python:a/b'], ExitCode.Usage, /'a\/b' is not a tag/],
  [['python:9.9.9'], ExitCode.Aws, /has no tag '9\.9\.9': it has 1, 1\.2, 1\.2\.3, f1e2d3c4b5a69788, f1e2d3c4b5a69788-amd64, latest/],
  [[`python@sha256:${'0'.repeat(64)}`], ExitCode.Aws, /has no manifest sha256:0{64}: check the digest/],
  [['ruby'], ExitCode.Aws, /there is no image 'ruby' in localhost:\d+ \(no repository team-fetch\/images\/ruby\)/],
])('%j exits %i with a message and writes nothing', async (args, code, message) => {
  const run = await fetch(...args);
  expect(run.code).toBe(code);
  expect(run.stderr).toMatch(message);
  expect(run.stdout).toBe('');
  expect(readdirSync(ws.root)).toEqual([]);
});

test('a --registry that is not local exits 2', async () => {
  const run = await ws.run(['-n', NS, 'fetch', 'python', '--registry', 'example.com:5000']);
  expect(run.code).toBe(ExitCode.Usage);
  expect(run.stderr).toMatch(/--registry: 'example.com:5000' is not a local registry address/);
});
