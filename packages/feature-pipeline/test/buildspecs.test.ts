import { startLocalRegistry } from '@devcontainer-factory/testing';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciRegistry, readFeatureCollection } from '@devcontainer-factory/core';
import { FEATURE_TOOL, bundleDir } from '@devcontainer-factory/lambdas';
import {
  PINNED_DEVCONTAINER_CLI,
  type BuildSpecObject,
  type BuildSpecShim,
  npmPackFileName,
  pinnedNpmTarball,
  runBuildSpec,
} from '@devcontainer-factory/pipeline-parts';
import { FeatureSpecOptions, featurePublishSpecObject, featureTestSpecObject } from '../src/private/buildspecs';

// The buildspecs run for real, every phase in bash as CodeBuild runs them (one shell,
// stop at the first failing command; runBuildSpec of pipeline-parts), with the built
// feature tool. Publish runs the real devcontainer CLI against a real registry. Only
// what cannot run here is replaced by a shim that records its arguments: `npm` (`pack`
// answers with npm's real tarball of the pinned CLI, which the install phase checks;
// `install` leaves the workspace's CLI of that version on PATH), `aws` (prints a token;
// `s3 cp` copies the built tool), `docker` (login) and, in Test, `devcontainer`
// (`devcontainer features test` needs a Docker daemon).

jest.setTimeout(60_000);
const REPO_BIN = join(__dirname, '../../../node_modules/.bin');

interface LocalRegistry {
  readonly host: string;
  stop(): Promise<void>;
}

let work: string;
let cliTarball: string;
const CLI_TGZ = npmPackFileName(PINNED_DEVCONTAINER_CLI);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dcf-buildspec-'));
  cliTarball = await pinnedNpmTarball(PINNED_DEVCONTAINER_CLI, join(__dirname, '../../../node_modules/.cache/dcf-npm-tarballs'));
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const SHIMS: Readonly<Record<string, string | BuildSpecShim>> = {
  // npm pack --silent --pack-destination <dir> <spec>
  npm: `if [ "$1" = pack ]; then cp "$FAKE_CLI_PACK" "$4/${CLI_TGZ}" && echo ${CLI_TGZ}; fi`,
  aws: [
    'case "$1 $2" in',
    '  "ecr get-login-password") echo fake-ecr-token;;',
    // aws s3 cp --only-show-errors <s3 url> <file>
    `  "s3 cp") cp '${join(bundleDir(FEATURE_TOOL), 'index.js')}' "$5";;`,
    'esac',
  ].join('\n'),
  docker: { recordStdin: true },
};

const OPTIONS: FeatureSpecOptions = {
  registryHost: 'unused',
  namespace: 'team',
  featureId: 'hello',
  devcontainerCliVersion: '0.89.0',
  toolBucket: 'b',
  toolKey: 'k',
};

/** An extracted upload in a folder of its own, as CodeBuild unpacks the source artifact. */
async function upload(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name, 'src');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const feature = (version: string, install = 'echo hello') => ({
  'devcontainer-feature.json': JSON.stringify({ id: 'hello', version, name: 'Hello' }),
  'install.sh': `#!/bin/sh\n${install}\n`,
});

/** Runs every phase, with the work folder of its own; `extra` shims replace tools on PATH too, `path` comes after the shims. */
async function run(spec: BuildSpecObject, src: string, extra: Readonly<Record<string, string | BuildSpecShim>> = {}, path: string[] = []) {
  const runWork = await mkdtemp(join(work, 'run-'));
  const result = await runBuildSpec(spec, {
    sourceDir: src,
    shims: { ...SHIMS, ...extra },
    path,
    env: { WORK: runWork, FEATURE_TOOL: join(runWork, 'feature-tool.js'), FAKE_CLI_PACK: cliTarball },
  });
  return { ...result, code: result.failed ? (result.failed.exitCode ?? 1) : 0, log: result.callLines.join('\n'), work: runWork };
}

describe('the Test buildspec', () => {
  // `devcontainer features test` needs a Docker daemon: the CLI only records its call.
  const recordingCli = { devcontainer: '' };

  test('runs devcontainer features test for a feature with a test/ folder', async () => {
    // GIVEN
    const src = await upload('with-tests', { ...feature('1.0.0'), 'test/test.sh': 'hello | grep hello' });

    // WHEN
    const result = await run(featureTestSpecObject(OPTIONS), src, recordingCli);

    // THEN
    expect(result.code).toBe(0);
    expect(result.log).toContain(`devcontainer features test --project-folder ${result.work}/collection --features hello --skip-scenarios`);
    expect(await readFile(join(result.work, 'collection/test/hello/test.sh'), 'utf8')).toBe('hello | grep hello');
    expect(await readFile(join(result.work, 'collection/src/hello/install.sh'), 'utf8')).toContain('echo hello');
    expect(result.log).toMatch(/docker login --username AWS --password-stdin unused/);
    expect(result.calls.find((c) => c.command === 'docker' && c.args[0] === 'login')?.stdin).toBe('fake-ecr-token');
    // The install phase: the pinned CLI's tarball, checked, then installed; then the tool from its bucket.
    const [pack, install, version, tool] = result.calls.map((c) => [c.command, ...c.args]);
    expect(pack).toEqual(['npm', 'pack', '--silent', '--pack-destination', expect.any(String), '@devcontainers/cli@0.89.0']);
    expect([install, version, tool]).toEqual([
      ['npm', 'install', '--global', '--offline', '--ignore-scripts', '--no-fund', '--no-audit', join(pack[4], CLI_TGZ)],
      ['devcontainer', '--version'],
      ['aws', 's3', 'cp', '--only-show-errors', 's3://b/k', `${result.work}/feature-tool.js`],
    ]);
  });

  test('refuses a CLI tarball that is not the pinned one before anything runs', async () => {
    // GIVEN a registry that serves another tarball under the pinned name
    const src = await upload('tampered-cli', feature('1.0.0'));
    const tampered = join(work, 'tampered.tgz');
    await writeFile(tampered, 'not the devcontainer CLI');

    // WHEN
    const runWork = await mkdtemp(join(work, 'run-'));
    const result = await runBuildSpec(featurePublishSpecObject(OPTIONS), {
      sourceDir: src,
      shims: SHIMS,
      env: { WORK: runWork, FEATURE_TOOL: join(runWork, 'feature-tool.js'), FAKE_CLI_PACK: tampered },
    });

    // THEN
    expect(result.failed).toMatchObject({ phase: 'install', exitCode: 1 });
    expect(result.stderr).toContain(`/${CLI_TGZ} is not the @devcontainers/cli@0.89.0 the factory pins (its SHA-512 differs): refusing to run it`);
    expect(result.callLines).toEqual([expect.stringMatching(/^npm pack /)]);
  });

  test('validates a feature without tests and runs no devcontainer features test', async () => {
    // GIVEN
    const src = await upload('without-tests', feature('1.0.0'));

    // WHEN
    const result = await run(featureTestSpecObject(OPTIONS), src, recordingCli);

    // THEN
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('The upload has no test/ folder');
    expect(result.log).not.toContain('devcontainer features test');
  });

  test('fails on an invalid feature with each problem, before any test runs', async () => {
    // GIVEN
    const src = await upload('invalid', { ...feature('1.0'), 'test/test.sh': 'x' });

    // WHEN
    const result = await run(featureTestSpecObject(OPTIONS), src, recordingCli);

    // THEN
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/devcontainer-feature\.json:1:\d+: "version" '1\.0' is not a semantic version/);
    expect(result.log).not.toContain('devcontainer features test');
  });
});

describe('the Publish buildspec, against a real registry with the real devcontainer CLI', () => {
  let local: LocalRegistry;
  let registry: OciRegistry;

  beforeAll(async () => {
    // The workspace's test support: Debian's docker-registry on a free port.
    local = await startLocalRegistry();
    registry = new OciRegistry({ host: local.host });
  });

  afterAll(async () => {
    await local?.stop();
  });

  const publish = async (name: string, version: string, install?: string) =>
    run(featurePublishSpecObject({ ...OPTIONS, registryHost: local.host }), await upload(name, feature(version, install)), {}, [REPO_BIN]);

  async function tags(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const tag of (await registry.listTags('team/features/hello')).sort()) out[tag] = (await registry.getManifest('team/features/hello', tag))!.digest;
    return out;
  }

  test('publishes a new version with its tags, skips an unchanged one, and refuses changed content under a published version', async () => {
    // WHEN
    const first = await publish('v1', '1.0.0');

    // THEN
    expect(first).toMatchObject({ code: 0 });
    const published = await tags();
    expect(Object.keys(published)).toEqual(['1', '1.0', '1.0.0', 'latest']);
    expect(new Set(Object.values(published)).size).toBe(1);
    expect(first.stderr).toMatch(/published localhost:\d+\/team\/features\/hello:1\.0\.0 \(sha256:[0-9a-f]{64}\) as 1\.0\.0, 1\.0, 1, latest/);
    expect((await readFeatureCollection(registry, 'team'))!.features.map((f) => f.id)).toEqual(['hello']);
    expect(first.log).toMatch(/aws ecr get-login-password/);

    // WHEN the same content is uploaded again
    const again = await publish('v1-again', '1.0.0');

    // THEN
    expect(again).toMatchObject({ code: 0 });
    expect(again.stderr).toMatch(/hello 1\.0\.0 is already published with this content/);
    expect(await tags()).toEqual(published);

    // WHEN changed content keeps the version
    const changed = await publish('v1-changed', '1.0.0', 'echo changed');

    // THEN
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(
      /team\/features\/hello:1\.0\.0 is already published with different content[\s\S]*Bump "version" in devcontainer-feature\.json \(e\.g\. to "1\.0\.1"\)/,
    );
    expect(changed.stderr).not.toContain('Published feature');
    expect(await tags()).toEqual(published);
  });
});
