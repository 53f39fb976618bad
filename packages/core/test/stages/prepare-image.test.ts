import { strToU8, zipSync } from 'fflate';
import { prepareImage, prepareOutputVariables, prepareSummary } from '../../src/stages/prepare-image';
import { DOCKER_HUB_REGISTRY, dockerHubMirrorReference, isDockerHubReference } from '../../src/oci/image-reference';
import type { Registry, StoredManifest } from '../../src/oci/registry';

// Prepare's warning for base images on Docker Hub, which Build pulls anonymously unless
// a Docker Hub pull-through cache is configured. The registries are stand-ins that know
// one digest per tag (what Prepare asks of them); the rest of Prepare runs for real.

const D = (c: string) => `sha256:${c.repeat(64)}`;
const FACTORY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

/** A registry that answers every tag with `digest` and has no manifests of its own (nothing is released). */
function registryOf(host: string, digest: string, asked: string[] = []): Registry {
  return {
    host,
    getManifest: async (): Promise<StoredManifest | undefined> => undefined,
    manifestDigest: async (repository: string, tag: string) => {
      asked.push(`${host}/${repository}:${tag}`);
      return digest;
    },
    putManifest: async () => {
      throw new Error('Prepare never writes');
    },
    getBlob: async () => {
      throw new Error('Prepare reads no blobs');
    },
    listTags: async () => [],
  };
}

const zipOf = (files: Record<string, string>) =>
  zipSync(Object.fromEntries(Object.entries(files).map(([p, t]) => [p, strToU8(t)])), { mtime: new Date('2020-01-01T00:00:00Z') });
const DOCKERFILE_CONFIG = zipOf({
  '.devcontainer/devcontainer.json': '{ "build": { "dockerfile": "Dockerfile" } }',
  '.devcontainer/Dockerfile':
    'FROM python:3.12 AS build\nFROM docker.io/library/node:20 AS node\nFROM mcr.microsoft.com/devcontainers/base:bookworm\nCOPY --from=build /usr/local /opt/python\nCOPY --from=node /usr/local /opt/node\n',
});

describe('Prepare with base images from Docker Hub', () => {
  test('without a Docker Hub cache, the summary warns of each Docker Hub base and says what to do; other registries are not named', async () => {
    // GIVEN
    const asked: string[] = [];
    const registryFor = (host: string) => registryOf(host, host === DOCKER_HUB_REGISTRY ? D('d') : D('e'), asked);

    // WHEN
    const prepared = await prepareImage(registryOf(FACTORY, D('f')), {
      zip: DOCKERFILE_CONFIG,
      repository: 'acme/images/python',
      namespace: 'acme',
      registryFor,
    });

    // THEN Prepare still resolves them (a HEAD, which Docker Hub does not count as a pull)
    expect(asked.sort()).toEqual([
      'mcr.microsoft.com/devcontainers/base:bookworm',
      'registry-1.docker.io/library/node:20',
      'registry-1.docker.io/library/python:3.12',
    ]);
    expect(prepared.warnings).toEqual([
      "base images docker.io/library/node:20, python:3.12 are on Docker Hub, which Build pulls anonymously (Docker Hub limits anonymous pulls per address and CodeBuild's addresses are shared, so builds fail at random with 429 Too Many Requests): give the pipeline a Docker Hub pull-through cache (dockerHubCachePrefix), or build on the image's copy in another registry, e.g. public.ecr.aws/docker/library/node:20",
    ]);
    expect(prepareSummary(prepared)).toBe(`build ${prepared.buildId}: no earlier release records its inputs; warning: ${prepared.warnings[0]}`);
    expect(prepareOutputVariables(prepared).Reason).toMatch(/; warning: base images docker\.io\/library\/node:20, python:3\.12 are on Docker Hub/);
  });

  test('with a Docker Hub cache, nothing is said: Build pulls them through it', async () => {
    // WHEN
    const prepared = await prepareImage(registryOf(FACTORY, D('f')), {
      zip: DOCKERFILE_CONFIG,
      repository: 'acme/images/python',
      namespace: 'acme',
      registryFor: (host) => registryOf(host, D('d')),
      dockerHubCachePrefix: 'acme/docker-hub',
    });

    // THEN
    expect(prepared.warnings).toEqual([]);
    expect(prepareSummary(prepared)).toBe(`build ${prepared.buildId}: no earlier release records its inputs`);
  });

  test('a single base of a user on Docker Hub is named alone, with no ECR Public copy to suggest', async () => {
    // WHEN
    const prepared = await prepareImage(registryOf(FACTORY, D('f')), {
      zip: zipOf({ '.devcontainer/devcontainer.json': '{ "image": "someone/tools:1" }' }),
      repository: 'acme/images/tools',
      namespace: 'acme',
      registryFor: (host) => registryOf(host, D('d')),
    });

    // THEN
    expect(prepared.warnings).toHaveLength(1);
    expect(prepared.warnings[0]).toMatch(
      /^base image someone\/tools:1 is on Docker Hub, which Build pulls anonymously .*: give the pipeline a Docker Hub pull-through cache \(dockerHubCachePrefix\), or build on the image's copy in another registry$/,
    );
  });
});

describe('Docker Hub references', () => {
  test.each([
    ['python:3.12', true],
    ['python', true],
    ['library/python@' + D('a'), true],
    ['docker.io/library/python:3.12', true],
    ['index.docker.io/someone/tools:1', true],
    ['registry-1.docker.io/library/node:20', true],
    ['localhost:5000/acme/images/base:latest', false],
    ['localhost/acme/images/base', false],
    ['mcr.microsoft.com/devcontainers/base:bookworm', false],
    [`${FACTORY}/acme/docker-hub/library/python:3.12`, false],
  ])('%s is on Docker Hub: %s', (ref, expected) => {
    expect(isDockerHubReference(ref)).toBe(expected);
  });

  test('behind a mirror, a Docker Hub image keeps its path (official images under library/) and its tag or digest', () => {
    const mirror = `${FACTORY}/acme/docker-hub`;
    expect(dockerHubMirrorReference('python:3.12', mirror)).toBe(`${mirror}/library/python:3.12`);
    expect(dockerHubMirrorReference('python', `${mirror}/`)).toBe(`${mirror}/library/python`);
    expect(dockerHubMirrorReference('docker.io/someone/tools:1', mirror)).toBe(`${mirror}/someone/tools:1`);
    expect(dockerHubMirrorReference(`python:3.12@${D('a')}`, mirror)).toBe(`${mirror}/library/python:3.12@${D('a')}`);
    expect(dockerHubMirrorReference('ghcr.io/devcontainers/features/node:1', mirror)).toBeUndefined();
    expect(dockerHubMirrorReference('not a reference', mirror)).toBeUndefined();
  });
});
