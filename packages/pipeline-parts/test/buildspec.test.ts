import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { Template } from 'aws-cdk-lib/assertions';
import { DEVCONTAINER_CLI_INTEGRITY, DEVCONTAINER_CLI_VERSION, integritySha512Hex } from '@devcontainer-factory/core';
import {
  BuildSpecError,
  NODEJS_RUNTIME,
  PINNED_DEVCONTAINER_CLI,
  buildSpec,
  devcontainerCliInstallCommands,
  npmPackFileName,
  pinnedNpmTarball,
  runBuildSpec,
  toCodeBuildSpec,
} from '../src';

/** The integrity of another release, as `npm view @devcontainers/cli@0.88.1 dist.integrity` prints one (its value does not matter here). */
const OTHER_INTEGRITY = `sha512-${createHash('sha512').update('another release').digest('base64')}`;

describe('buildSpec', () => {
  test("installs the devcontainer CLI pinned by core on the Node.js runtime, before the caller's install commands", () => {
    // WHEN
    const spec = buildSpec({ variables: { REGISTRY: 'r' }, install: ['echo more'], preBuild: ['echo pre'], build: ['echo build'] });

    // THEN
    expect(spec.version).toBe('0.2');
    expect(spec.env).toEqual({
      shell: 'bash',
      variables: { DEVCONTAINER_CLI_VERSION, DEVCONTAINER_CLI_SHA512: integritySha512Hex(DEVCONTAINER_CLI_INTEGRITY), REGISTRY: 'r' },
    });
    expect(spec.phases.install).toEqual({ 'runtime-versions': { nodejs: NODEJS_RUNTIME }, commands: [...devcontainerCliInstallCommands(), 'echo more'] });
    expect(spec.phases.pre_build.commands).toEqual(['echo pre']);
    expect(spec.phases.build.commands).toEqual(['echo build']);
    expect(spec.phases.post_build).toBeUndefined();
  });

  test('the install commands name the version and the SHA-512 through variables; the caller may pin another version with its integrity', () => {
    // WHEN
    const spec = buildSpec({ variables: {}, build: [], devcontainerCliVersion: '0.88.1', devcontainerCliIntegrity: OTHER_INTEGRITY });

    // THEN
    expect(spec.env.variables).toEqual({ DEVCONTAINER_CLI_VERSION: '0.88.1', DEVCONTAINER_CLI_SHA512: integritySha512Hex(OTHER_INTEGRITY) });
    expect(spec.phases.install.commands).toEqual([
      'DEVCONTAINER_CLI_DIR="$(mktemp -d)"',
      'DEVCONTAINER_CLI_TGZ="$DEVCONTAINER_CLI_DIR/$(npm pack --silent --pack-destination "$DEVCONTAINER_CLI_DIR" "@devcontainers/cli@${DEVCONTAINER_CLI_VERSION}")"',
      'echo "${DEVCONTAINER_CLI_SHA512}  ${DEVCONTAINER_CLI_TGZ}" | sha512sum --check --strict --status || { echo "${DEVCONTAINER_CLI_TGZ} is not the @devcontainers/cli@${DEVCONTAINER_CLI_VERSION} the factory pins (its SHA-512 differs): refusing to run it" >&2; exit 1; }',
      'npm install --global --offline --ignore-scripts --no-fund --no-audit "$DEVCONTAINER_CLI_TGZ" && rm -rf "$DEVCONTAINER_CLI_DIR"',
      'devcontainer --version',
    ]);
    expect(spec.phases.pre_build.commands).toEqual([]);
  });

  test.each([
    [{ devcontainerCliVersion: 'latest' }, /devcontainerCliVersion 'latest' must be an exact version such as 0\.89\.0/],
    [
      { devcontainerCliVersion: '0.88.1' },
      /devcontainerCliVersion '0\.88\.1' needs its npm integrity, which the install checks the tarball against: pass devcontainerCliIntegrity, the output of 'npm view @devcontainers\/cli@0\.88\.1 dist\.integrity'/,
    ],
    [{ devcontainerCliVersion: '0.88.1', devcontainerCliIntegrity: 'sha1-abc' }, /devcontainerCliIntegrity 'sha1-abc' is not an npm sha512 integrity/],
    [
      { devcontainerCliIntegrity: OTHER_INTEGRITY },
      /is not the integrity of @devcontainers\/cli@0\.89\.0 \(sha512-Lzao.*\): npm never changes a published version/,
    ],
  ])('refuses the CLI pin %j', (pin, message) => {
    expect(() => buildSpec({ variables: {}, build: [], ...pin })).toThrow(BuildSpecError);
    expect(() => buildSpec({ variables: {}, build: [], ...pin })).toThrow(message);
  });

  test('refuses a DEVCONTAINER_CLI_VERSION or DEVCONTAINER_CLI_SHA512 variable, which would silently replace the pin', () => {
    expect(() => buildSpec({ variables: { DEVCONTAINER_CLI_VERSION: '1.0.0' }, build: [] })).toThrow(BuildSpecError);
    expect(() => buildSpec({ variables: { DEVCONTAINER_CLI_VERSION: '1.0.0' }, build: [] })).toThrow(/pass devcontainerCliVersion instead/);
    expect(() => buildSpec({ variables: { DEVCONTAINER_CLI_SHA512: 'ab' }, build: [] })).toThrow(
      /DEVCONTAINER_CLI_SHA512 is set by buildSpec\(\): pass devcontainerCliIntegrity instead/,
    );
  });

  test('toCodeBuildSpec gives a project the same buildspec', () => {
    // GIVEN
    const stack = new Stack();
    const spec = buildSpec({ variables: { A: 'b' }, build: ['echo hi'] });

    // WHEN
    new codebuild.Project(stack, 'P', { buildSpec: toCodeBuildSpec(spec) });

    // THEN
    const project = Object.values(Template.fromStack(stack).findResources('AWS::CodeBuild::Project'))[0] as { Properties: { Source: { BuildSpec: string } } };
    expect(JSON.parse(project.Properties.Source.BuildSpec)).toEqual(spec);
  });
});

describe('the install phase, run for real', () => {
  // The install phase of buildSpec() in bash (runBuildSpec): npm's real tarball of the
  // pinned CLI (packed once into the workspace's cache), the real sha512sum, and the real
  // npm installing it into a prefix of this run; `npm pack` is a shim that answers with the
  // tarball in FAKE_PACK, as the registry would have served it.
  jest.setTimeout(120_000);
  const NPM = execFileSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  const CACHE = join(__dirname, '../../../node_modules/.cache/dcf-npm-tarballs');
  let work: string;
  let tarball: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dcf-cli-install-'));
    tarball = await pinnedNpmTarball(PINNED_DEVCONTAINER_CLI, CACHE);
  }, 300_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  async function install(pack: string) {
    const dir = await mkdtemp(join(work, 'run-'));
    const prefix = join(dir, 'prefix');
    const spec = buildSpec({ variables: {}, build: ['command -v devcontainer'] });
    const run = await runBuildSpec(spec, {
      sourceDir: dir,
      path: [join(prefix, 'bin')],
      env: { FAKE_PACK: pack, NPM_PREFIX: prefix },
      shims: {
        // `npm pack --silent --pack-destination <dir> <spec>` answers with FAKE_PACK; anything else is the real npm, into this run's prefix.
        npm: `if [ "$1" = pack ]; then cp "$FAKE_PACK" "$4/${npmPackFileName(PINNED_DEVCONTAINER_CLI)}" && echo ${npmPackFileName(PINNED_DEVCONTAINER_CLI)}; else exec ${NPM} "$@" --prefix "$NPM_PREFIX"; fi`,
      },
    });
    return { run, prefix };
  }

  test('installs the pinned tarball, offline and without scripts, and the devcontainer on PATH is that one', async () => {
    // WHEN
    const { run, prefix } = await install(tarball);

    // THEN
    expect(run.phases.map((p) => `${p.phase} ${p.status}`)).toEqual(['install SUCCEEDED', 'pre_build SUCCEEDED', 'build SUCCEEDED']);
    const [pack, npmInstall] = run.calls.map((c) => c.args);
    expect(pack).toEqual(['pack', '--silent', '--pack-destination', expect.any(String), `@devcontainers/cli@${DEVCONTAINER_CLI_VERSION}`]);
    expect(npmInstall).toEqual([
      'install',
      '--global',
      '--offline',
      '--ignore-scripts',
      '--no-fund',
      '--no-audit',
      join(pack[3], npmPackFileName(PINNED_DEVCONTAINER_CLI)),
    ]);
    expect(run.stdout).toContain(`\n${DEVCONTAINER_CLI_VERSION}\n`);
    expect(run.stdout).toContain(`${join(prefix, 'bin', 'devcontainer')}\n`);
  });

  test('refuses a tarball that is not the pinned one: nothing of it is installed and no later phase runs', async () => {
    // GIVEN the registry's tarball with one byte more, as a tampered mirror might serve it
    const tampered = join(work, 'tampered.tgz');
    await copyFile(tarball, tampered);
    await writeFile(tampered, Buffer.concat([await readFile(tampered), Buffer.from([0])]));

    // WHEN
    const { run } = await install(tampered);

    // THEN
    expect(run.failed).toMatchObject({ phase: 'install', exitCode: 1 });
    expect(run.phases.map((p) => p.phase)).toEqual(['install']);
    expect(run.stderr).toMatch(
      new RegExp(
        `/${npmPackFileName(PINNED_DEVCONTAINER_CLI).replace(/\./g, '\\.')} is not the @devcontainers/cli@${DEVCONTAINER_CLI_VERSION.replace(/\./g, '\\.')} the factory pins \\(its SHA-512 differs\\): refusing to run it`,
      ),
    );
    expect(run.calls.map((c) => c.args[0])).toEqual(['pack']);
  });
});
