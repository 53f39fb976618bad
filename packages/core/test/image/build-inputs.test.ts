import { dockerfileBases } from '../../src/config/dockerfile';
import { InvalidConfigurationError } from '../../src/config-files';
import { BuildInputError, buildInputReferences, inputChanges, resolveBuildInputs, type ConfigurationFiles } from '../../src/image/build-inputs';
import { parseImageReference } from '../../src/oci/image-reference';
import { OciRegistry } from '../../src';
import { pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';

const VALUES = { registry: 'localhost:5000', namespace: 'acme' };
const D = (c: string) => `sha256:${c.repeat(64)}`;

function configuration(config: Record<string, unknown>, buildFiles: Record<string, string> = {}): ConfigurationFiles {
  return { configPath: '.devcontainer/devcontainer.json', config, buildFiles: new Map(Object.entries(buildFiles)) };
}

describe('buildInputReferences', () => {
  test('GIVEN image and features with the factory variables THEN both are inputs, substituted, sorted; local and tarball features are not', () => {
    const refs = buildInputReferences(
      configuration({
        image: '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest',
        features: {
          '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/features/hello:1': {},
          'ghcr.io/devcontainers/features/node:1': { version: 'lts' },
          './local-feature': {},
          'https://example.com/feature.tgz': {},
        },
      }),
      VALUES,
    );
    expect(refs).toEqual([
      { kind: 'base', reference: 'localhost:5000/acme/images/base:latest' },
      { kind: 'feature', reference: 'ghcr.io/devcontainers/features/node:1' },
      { kind: 'feature', reference: 'localhost:5000/acme/features/hello:1' },
    ]);
  });

  test('GIVEN a Dockerfile with global ARGs, build args, stages and scratch THEN the images of the stages the last one needs, with the args resolved, and the frontend', () => {
    const dockerfile = [
      '# syntax=docker/dockerfile:1',
      'ARG REGISTRY',
      'ARG VARIANT=bookworm',
      'FROM --platform=$BUILDPLATFORM ${REGISTRY}/tools/builder:1 AS build',
      'RUN make',
      'FROM scratch AS empty',
      'FROM mcr.microsoft.com/devcontainers/base:${VARIANT} \\',
      '  AS final',
      'COPY --from=build /out /usr/local/bin',
      'FROM build',
    ].join('\n');
    const refs = buildInputReferences(
      configuration({ build: { dockerfile: 'Dockerfile', args: { REGISTRY: '${localEnv:DCF_REGISTRY}' } } }, { '.devcontainer/Dockerfile': dockerfile }),
      VALUES,
    );
    // The last stage starts from `build`: BuildKit builds neither `empty` nor `final`.
    expect(refs).toEqual([
      { kind: 'base', reference: 'localhost:5000/tools/builder:1' },
      { kind: 'frontend', reference: 'docker/dockerfile:1' },
    ]);
  });

  test('GIVEN compose files THEN only the image of the dev container service is an input, not the other services', () => {
    const compose = 'services:\n  app:\n    image: debian:12\n  db:\n    image: ${localEnv:DCF_REGISTRY}/acme/images/db:1\n  built:\n    build: .\n';
    const refs = buildInputReferences(
      configuration({ dockerComposeFile: ['compose.yaml'], service: 'app' }, { '.devcontainer/compose.yaml': compose }),
      VALUES,
    );
    expect(refs.map((r) => r.reference)).toEqual(['debian:12']);
  });

  test.each([
    [
      'another ${localEnv:…} in image',
      { image: '${localEnv:HOME}/x:1' },
      {},
      /"image" "\$\{localEnv:HOME\}\/x:1" uses \$\{localEnv:HOME\}: only \$\{localEnv:DCF_REGISTRY\} and \$\{localEnv:DCF_NAMESPACE\} have a value/,
    ],
    [
      'a FROM whose ARG has no value',
      { build: { dockerfile: 'Dockerfile' } },
      { '.devcontainer/Dockerfile': 'ARG BASE\nFROM $BASE\n' },
      /Dockerfile:2: FROM \$BASE uses \$BASE, which has no value when the build starts: give the ARG a default or set it in build.args/,
    ],
    [
      'a feature that is not a reference',
      { features: { 'ghcr.io/Bad Name:1': {} } },
      {},
      /the feature "ghcr.io\/Bad Name:1" is not an image reference the factory can resolve/,
    ],
  ])('GIVEN %s THEN InvalidConfigurationError says what to fix', (_what, config, files, message) => {
    let error: unknown;
    try {
      buildInputReferences(configuration(config as Record<string, unknown>, files as Record<string, string>), VALUES);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).problems.map((p) => `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`).join('\n')).toMatch(message);
  });

  test('GIVEN more than 64 features THEN it is refused with the limit', () => {
    const features = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`ghcr.io/acme/features/f${i}:1`, {}]));
    const error = (() => {
      try {
        buildInputReferences(configuration({ features }), VALUES);
      } catch (e) {
        return e as InvalidConfigurationError;
      }
      return undefined;
    })();
    expect(error?.problems[0].message).toBe('names 65 base images and features; the factory resolves at most 64 (MAX_BUILD_INPUTS)');
  });
});

describe('dockerfileBases', () => {
  test('GIVEN comments inside a continued FROM and lowercase keywords THEN the image is read', () => {
    expect(dockerfileBases('from \\\n# a comment\n  debian:12 as base\n', {}, 'Dockerfile', [])).toEqual(['debian:12']);
  });
  test('GIVEN ${VAR:-default} THEN the default is used when the arg has none', () => {
    expect(dockerfileBases('ARG V\nFROM debian:${V:-12}\n', {}, 'Dockerfile', [])).toEqual(['debian:12']);
  });
});

describe('parseImageReference', () => {
  test.each([
    ['debian:12', { host: 'registry-1.docker.io', repository: 'library/debian', tag: '12' }],
    ['localhost:5000/acme/images/base:latest', { host: 'localhost:5000', repository: 'acme/images/base', tag: 'latest' }],
    [`ghcr.io/devcontainers/features/node@${D('a')}`, { host: 'ghcr.io', repository: 'devcontainers/features/node', digest: D('a') }],
    ['user/image', { host: 'registry-1.docker.io', repository: 'user/image' }],
  ])('%s', (ref, expected) => expect(parseImageReference(ref)).toEqual(expected));
  test.each(['Debian:12', 'a b', 'ghcr.io/x@sha256:short', ''])('%j is not a reference', (ref) => expect(parseImageReference(ref)).toBeUndefined());
});

describe('input records', () => {
  const record = { configuration: D('c'), inputs: [{ kind: 'base' as const, reference: 'localhost:5000/acme/images/base:latest', digest: D('1') }] };

  test('GIVEN a moved base, a new feature, a dropped input and a changed configuration THEN one line each', () => {
    const current = {
      configuration: D('d'),
      inputs: [
        { kind: 'base' as const, reference: 'localhost:5000/acme/images/base:latest', digest: D('2') },
        { kind: 'feature' as const, reference: 'localhost:5000/acme/features/hello:1', digest: D('3') },
      ],
    };
    const previous = { ...record, inputs: [...record.inputs, { kind: 'feature' as const, reference: 'ghcr.io/x/features/y:1', digest: D('4') }] };
    expect(inputChanges(previous, current)).toEqual([
      'the configuration changed',
      `base localhost:5000/acme/images/base:latest moved to ${D('2').slice(0, 19)} (from ${D('1').slice(0, 19)})`,
      `feature localhost:5000/acme/features/hello:1 is new (${D('3').slice(0, 19)})`,
      'feature ghcr.io/x/features/y:1 is no longer used',
    ]);
    expect(inputChanges(current, current)).toEqual([]);
  });
});

describe('resolveBuildInputs against a real registry', () => {
  const local = useLocalRegistry();

  test('GIVEN tags and a pinned digest THEN each resolves to the digest it names now; a moved tag resolves to the new one', async () => {
    const base = await pushTestImage(local.host, 'acme/images/base', 'latest', 'amd64', { content: 'v1' });
    const hello = await pushTestImage(local.host, 'acme/features/hello', '1', 'amd64', { content: 'hello 1.0.0' });
    const refs = [
      { kind: 'base' as const, reference: `${local.host}/acme/images/base:latest` },
      { kind: 'feature' as const, reference: `${local.host}/acme/features/hello:1` },
      { kind: 'base' as const, reference: `ghcr.io/pinned/image@${D('e')}` },
    ];
    const registryFor = (host: string) => (host === local.host ? local.registry : new OciRegistry({ host: 'localhost:1' }));

    expect((await resolveBuildInputs(refs, registryFor)).map((i) => i.digest)).toEqual([base.digest, hello.digest, D('e')]);

    const moved = await pushTestImage(local.host, 'acme/features/hello', '1', 'amd64', { content: 'hello 1.1.0' });
    expect((await resolveBuildInputs(refs, registryFor))[1].digest).toBe(moved.digest);
  });

  test('GIVEN an OCI registry THEN a tag is resolved with one HEAD of its manifest (Docker Hub does not count HEADs as pulls), no GET', async () => {
    const image = await pushTestImage(local.host, 'acme/images/head', 'latest', 'amd64', { content: 'head' });
    const methods: string[] = [];
    const recording = new OciRegistry({
      host: local.host,
      fetch: (input, init) => (methods.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`), fetch(input, init)),
    });

    const [input] = await resolveBuildInputs([{ kind: 'base', reference: `${local.host}/acme/images/head:latest` }], () => recording);

    expect(input.digest).toBe(image.digest);
    expect(methods).toEqual(['HEAD /v2/acme/images/head/manifests/latest']);
  });

  test('GIVEN a reference the registry does not have THEN BuildInputError names it and says what to do', async () => {
    const missing = [{ kind: 'feature' as const, reference: `${local.host}/acme/features/absent:1` }];
    await expect(resolveBuildInputs(missing, () => local.registry)).rejects.toThrow(
      new RegExp(`the feature ${local.host}/acme/features/absent:1 does not exist \\(${local.host} has no acme/features/absent:1\\): publish it first`),
    );
  });

  test('GIVEN a registry that does not answer THEN BuildInputError names the reference; nothing is built', async () => {
    const down = [{ kind: 'base' as const, reference: 'localhost:1/acme/images/base:latest' }];
    const error = await resolveBuildInputs(down, (host) => new OciRegistry({ host, retry: { retries: 0 } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildInputError);
    expect((error as Error).message).toMatch(
      /^cannot resolve the base image localhost:1\/acme\/images\/base:latest \(localhost:1\/acme\/images\/base:latest\): cannot reach the registry/,
    );
  });
});
