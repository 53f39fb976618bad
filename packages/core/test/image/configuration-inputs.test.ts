/**
 * What a build records as its inputs, for configurations in the shapes real ones take
 * (written here: lockfiles as the devcontainer CLI writes them, compose configurations
 * whose dev container service is built, multi-stage Dockerfiles with a target, heredocs,
 * a `# syntax=` frontend). Each case goes through the zip as Prepare reads it
 * (`readImageSource` → `configurationInputs`) and through `dcf validate`'s check of the
 * same files (`checkImageFiles`): both give the same inputs, and what one refuses the
 * other refuses with the same problems.
 */
import { writeZip } from '../../src/archive/write-zip';
import { InvalidConfigurationError, type ConfigProblem } from '../../src/config-files';
import { EXAMPLE_FACTORY_VALUES } from '../../src/config/factory-variables';
import { checkImageFiles } from '../../src/image/validate-image';
import { configurationInputs, resolveBuildInputs, type ConfigurationInput } from '../../src/image/build-inputs';
import { readImageSource } from '../../src/image/image-source';
import type { Registry } from '../../src/oci/registry';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const NODE = 'ghcr.io/devcontainers/features/node';
const PYTHON = 'ghcr.io/devcontainers/features/python';
const UTILS = 'ghcr.io/devcontainers/features/common-utils';

type Files = Record<string, string>;

/** The inputs as Prepare reads them from the zip, and as dcf validate reads them from the folder: they must agree. */
function inputsOf(files: Files): ConfigurationInput[] {
  const zip = writeZip({ files: new Map(Object.entries(files).map(([p, t]) => [p, Buffer.from(t)])), executables: new Set() });
  const source = readImageSource(zip);
  const prepared = configurationInputs(source, EXAMPLE_FACTORY_VALUES);
  const validated = checkImageFiles(new Map(Object.entries(files).map(([p, t]) => [p, Buffer.from(t)])));
  expect(validated.problems).toEqual([]);
  expect(validated.inputs).toEqual(prepared);
  return prepared;
}

/** The problems Prepare refuses the zip with; dcf validate must refuse the folder with the same ones. */
function refusalOf(files: Files): readonly ConfigProblem[] {
  const zip = writeZip({ files: new Map(Object.entries(files).map(([p, t]) => [p, Buffer.from(t)])), executables: new Set() });
  let problems: readonly ConfigProblem[] = [];
  try {
    configurationInputs(readImageSource(zip), EXAMPLE_FACTORY_VALUES);
  } catch (error) {
    if (!(error instanceof InvalidConfigurationError)) throw error;
    problems = error.problems;
  }
  expect(problems.length).toBeGreaterThan(0);
  expect(checkImageFiles(new Map(Object.entries(files).map(([p, t]) => [p, Buffer.from(t)]))).problems).toEqual(problems);
  return problems;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const brief = (inputs: readonly ConfigurationInput[]) =>
  inputs.map((i) => `${i.kind} ${i.reference}${i.locked ? ` locked ${i.locked.slice(7, 8)}` : ''} ${i.file}:${i.line ?? '-'}`);

describe('a configuration with a lockfile', () => {
  const config = json({
    name: 'Node and Python',
    image: 'mcr.microsoft.com/devcontainers/base:bookworm',
    features: { [`${NODE}:1`]: { version: 'lts' }, [`${PYTHON}:1`]: {} },
  });
  const lock = (features: Record<string, unknown>) => json({ features });
  const entry = (repository: string, c: string, version: string, dependsOn?: string[]) => ({
    version,
    resolved: `${repository}@${D(c)}`,
    integrity: D(c),
    ...(dependsOn && { dependsOn }),
  });

  test('GIVEN every feature locked, one with a dependency THEN the locked digests are the inputs, the dependency too, and no tag is resolved', async () => {
    // GIVEN
    const files = {
      '.devcontainer/devcontainer.json': config,
      '.devcontainer/devcontainer-lock.json': lock({
        [`${NODE}:1`]: entry(NODE, 'a', '1.6.2', [`${UTILS}:2`]),
        [`${PYTHON}:1`]: entry(PYTHON, 'b', '1.7.1'),
        [`${UTILS}:2`]: entry(UTILS, 'c', '2.5.4'),
      }),
    };

    // WHEN
    const inputs = inputsOf(files);

    // THEN
    expect(brief(inputs)).toEqual([
      'base mcr.microsoft.com/devcontainers/base:bookworm .devcontainer/devcontainer.json:3',
      `feature ${UTILS}:2 locked c .devcontainer/devcontainer-lock.json:16`,
      `feature ${NODE}:1 locked a .devcontainer/devcontainer.json:5`,
      `feature ${PYTHON}:1 locked b .devcontainer/devcontainer.json:8`,
    ]);
    expect(inputs.map((i) => i.pinned)).toEqual([false, true, true, true]);
    const asked: string[] = [];
    const registry = {
      host: 'x',
      getManifest: async (repository: string, tag: string) => (asked.push(`${repository}:${tag}`), { digest: D('f'), body: Buffer.from('{}'), mediaType: '' }),
    } as unknown as Registry;
    const resolved = await resolveBuildInputs(inputs, () => registry);
    expect(resolved.map((r) => r.digest)).toEqual([D('f'), D('c'), D('a'), D('b')]);
    expect(asked).toEqual(['devcontainers/base:bookworm']);
  });

  test('GIVEN the dotted .devcontainer.json THEN the CLI reads .devcontainer-lock.json beside it, and so does the factory', () => {
    const inputs = inputsOf({
      '.devcontainer.json': config,
      '.devcontainer-lock.json': lock({ [`${NODE}:1`]: entry(NODE, 'a', '1.6.2'), [`${PYTHON}:1`]: entry(PYTHON, 'b', '1.7.1') }),
    });
    expect(inputs.filter((i) => i.kind === 'feature').map((i) => i.locked)).toEqual([D('a'), D('b')]);
  });

  test('GIVEN an empty lockfile THEN it locks nothing (the CLI writes it on the next build): the tags are the inputs', () => {
    const inputs = inputsOf({ '.devcontainer/devcontainer.json': config, '.devcontainer/devcontainer-lock.json': '' });
    expect(inputs.filter((i) => i.kind === 'feature').map((i) => [i.reference, i.pinned])).toEqual([
      [`${NODE}:1`, false],
      [`${PYTHON}:1`, false],
    ]);
  });

  test.each([
    [
      'a feature it does not lock',
      lock({ [`${NODE}:1`]: entry(NODE, 'a', '1.6.2') }),
      [
        {
          file: '.devcontainer/devcontainer.json',
          line: 8,
          message: expect.stringMatching(
            new RegExp(`^the feature "${PYTHON}:1" is not in the lockfile \\.devcontainer/devcontainer-lock\\.json: .*devcontainer upgrade`),
          ),
        },
      ],
    ],
    [
      'an entry nothing uses',
      lock({ [`${NODE}:1`]: entry(NODE, 'a', '1.6.2'), [`${PYTHON}:1`]: entry(PYTHON, 'b', '1.7.1'), [`${UTILS}:2`]: entry(UTILS, 'c', '2.5.4') }),
      [
        {
          file: '.devcontainer/devcontainer-lock.json',
          line: 13,
          message: expect.stringContaining(`locks "${UTILS}:2", which devcontainer.json does not use`),
        },
      ],
    ],
    [
      'an entry of another feature',
      lock({ [`${NODE}:1`]: entry(PYTHON, 'a', '1.6.2'), [`${PYTHON}:1`]: entry(PYTHON, 'b', '1.7.1') }),
      [
        {
          file: '.devcontainer/devcontainer-lock.json',
          line: 3,
          message: expect.stringContaining(`locks "${NODE}:1" to ${PYTHON}@${D('a')}, another feature`),
        },
      ],
    ],
    [
      'an integrity that is not the resolved digest',
      lock({ [`${NODE}:1`]: { ...entry(NODE, 'a', '1.6.2'), integrity: D('9') }, [`${PYTHON}:1`]: entry(PYTHON, 'b', '1.7.1') }),
      [
        { file: '.devcontainer/devcontainer-lock.json', line: 3, message: expect.stringContaining('is not the digest of its "resolved"') },
        { file: '.devcontainer/devcontainer.json', line: 5, message: expect.stringContaining(`the feature "${NODE}:1" is not in the lockfile`) },
      ],
    ],
    [
      'a file that is not JSON',
      '{ "features": ',
      [{ file: '.devcontainer/devcontainer-lock.json', message: expect.stringMatching(/^is not JSON .*: run `devcontainer upgrade/) }],
    ],
  ])('GIVEN a lockfile with %s THEN Prepare and validate refuse it, naming the file, line and the fix', (_name, lockfile, expected) => {
    expect(refusalOf({ '.devcontainer/devcontainer.json': config, '.devcontainer/devcontainer-lock.json': lockfile })).toEqual(expected);
  });
});

describe('a Docker Compose configuration', () => {
  const devcontainer = (extra: Record<string, unknown> = {}) =>
    json({
      name: 'Anaconda and Postgres',
      dockerComposeFile: 'docker-compose.yml',
      service: 'app',
      workspaceFolder: '/workspaces/${localWorkspaceFolderBasename}',
      ...extra,
    });
  const compose = [
    'services:',
    '  app:',
    '    build:',
    '      context: ..',
    '      dockerfile: .devcontainer/Dockerfile',
    '      args:',
    '        VARIANT: "3"',
    '    volumes:',
    '      - ../..:/workspaces:cached',
    '    command: sleep infinity',
    '    network_mode: service:db',
    '  db:',
    '    image: postgres:latest',
    '    restart: unless-stopped',
    '',
  ].join('\n');
  const dockerfile = ['ARG VARIANT=2', 'FROM mcr.microsoft.com/devcontainers/anaconda:1-${VARIANT}', 'RUN conda install -y numpy', ''].join('\n');

  test('GIVEN the dev container service is built THEN its Dockerfile base is the input, with the compose args; the postgres sidecar is not', () => {
    const inputs = inputsOf({
      '.devcontainer/devcontainer.json': devcontainer(),
      '.devcontainer/docker-compose.yml': compose,
      '.devcontainer/Dockerfile': dockerfile,
    });
    expect(brief(inputs)).toEqual(['base mcr.microsoft.com/devcontainers/anaconda:1-3 .devcontainer/Dockerfile:2']);
  });

  test('GIVEN the dev container service runs an image with a ${VAR:-default} THEN it resolves as compose does, from .env when it sets it', () => {
    const files = {
      '.devcontainer/devcontainer.json': devcontainer({ service: 'db' }),
      '.devcontainer/docker-compose.yml': ['services:', '  db:', '    image: postgres:${PG_VERSION:-16}', ''].join('\n'),
    };
    expect(brief(inputsOf(files))).toEqual(['base postgres:16 .devcontainer/docker-compose.yml:3']);
    expect(brief(inputsOf({ ...files, '.devcontainer/.env': 'PG_VERSION=17\n' }))).toEqual(['base postgres:17 .devcontainer/docker-compose.yml:3']);
  });

  test('GIVEN a service that no compose file defines THEN Prepare and validate refuse it, listing the services', () => {
    const problems = refusalOf({
      '.devcontainer/devcontainer.json': devcontainer({ service: 'web' }),
      '.devcontainer/docker-compose.yml': compose,
      '.devcontainer/Dockerfile': dockerfile,
    });
    expect(problems.map((p) => p.message).join('\n')).toMatch(/web.*app, db|web.*db, app/);
  });
});

describe('a Dockerfile', () => {
  const devcontainer = (build: Record<string, unknown>) => json({ name: 'Web', build: { dockerfile: 'Dockerfile', ...build } });

  test('GIVEN build.target THEN only the stages the target needs are inputs, not the stages after it', () => {
    const dockerfile = [
      'FROM debian:bookworm AS base',
      'RUN apt-get update',
      'FROM base AS dev',
      'RUN apt-get install -y git',
      'FROM nginx:1 AS prod',
      'COPY --from=dev /srv /usr/share/nginx/html',
      '',
    ].join('\n');
    expect(brief(inputsOf({ '.devcontainer/devcontainer.json': devcontainer({ target: 'dev' }), '.devcontainer/Dockerfile': dockerfile }))).toEqual([
      'base debian:bookworm .devcontainer/Dockerfile:1',
    ]);
  });

  test('GIVEN a heredoc whose body has a line that starts with FROM THEN it is not an instruction', () => {
    const dockerfile = ['FROM debian:bookworm', 'RUN <<EOF', 'cat > /etc/motd', 'FROM base:notanimage:1', 'EOF', ''].join('\n');
    expect(brief(inputsOf({ '.devcontainer/devcontainer.json': devcontainer({}), '.devcontainer/Dockerfile': dockerfile }))).toEqual([
      'base debian:bookworm .devcontainer/Dockerfile:1',
    ]);
  });

  test('GIVEN a # syntax= directive THEN the frontend BuildKit pulls is an input too', () => {
    const dockerfile = ['# syntax=docker/dockerfile:1.7', 'FROM debian:bookworm', ''].join('\n');
    expect(brief(inputsOf({ '.devcontainer/devcontainer.json': devcontainer({}), '.devcontainer/Dockerfile': dockerfile }))).toEqual([
      'base debian:bookworm .devcontainer/Dockerfile:2',
      'frontend docker/dockerfile:1.7 .devcontainer/Dockerfile:1',
    ]);
  });

  test('GIVEN FROM $X with ARG X and no value THEN Prepare and validate refuse it at the same line', () => {
    const problems = refusalOf({ '.devcontainer/devcontainer.json': devcontainer({}), '.devcontainer/Dockerfile': ['ARG BASE', 'FROM $BASE', ''].join('\n') });
    expect(problems).toEqual([
      { file: '.devcontainer/Dockerfile', line: 2, message: expect.stringContaining('FROM $BASE uses $BASE, which has no value when the build starts') },
    ]);
  });
});

describe('a template that was never applied', () => {
  test('GIVEN ${templateOption:…} in image THEN Prepare and validate refuse it with one message and line', () => {
    const problems = refusalOf({
      '.devcontainer/devcontainer.json': json({ name: 'Go', image: 'mcr.microsoft.com/devcontainers/go:${templateOption:imageVariant}' }),
    });
    expect(problems).toEqual([
      { file: '.devcontainer/devcontainer.json', line: 3, message: expect.stringContaining('is not an image reference the factory can resolve') },
    ]);
  });
});
