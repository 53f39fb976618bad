import { InvalidConfigurationError, MEDIA_TYPES, checkFeatureVersion, planFeaturePublish, repositoryName } from '../../src';
import { MemoryRegistry } from '../support/memory-registry';

// Versions the devcontainer CLI would publish but the factory does not are refused by the
// version guard, before anything is written, with the reason; a pre-release's refusal names
// the tags the CLI would move over what the registry holds. The histories below are the
// tags devcontainer CLI 0.89.0 left in a CNCF distribution registry.

const NS = 'devcontainers';
const ID = 'hello';
const REPOSITORY = repositoryName(NS, 'feature', ID);

/** A registry whose feature repository has `tags` (each on a placeholder manifest: only the tag list is read). */
async function registryWithTags(tags: readonly string[]): Promise<MemoryRegistry> {
  const registry = new MemoryRegistry();
  for (const tag of tags) await registry.putManifest(REPOSITORY, tag, MEDIA_TYPES.ociManifest, Buffer.from(JSON.stringify({ schemaVersion: 2, tag })));
  return registry;
}

async function refusal(version: string, tags: readonly string[]): Promise<string> {
  const registry = await registryWithTags(tags);
  const puts = registry.puts.length;
  const error = await checkFeatureVersion({ registry, namespace: NS, id: ID, version, packaged: new Map() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidConfigurationError);
  expect(registry.puts.length).toBe(puts);
  const problems = (error as InvalidConfigurationError).problems;
  expect(problems).toHaveLength(1);
  expect(problems[0].file).toBe('devcontainer-feature.json');
  return problems[0].message;
}

describe('checkFeatureVersion: versions the CLI accepts and the factory refuses', () => {
  test('GIVEN "version": "v1.2.3" WHEN guarded THEN it is refused: the tag v1.2.3 would be a second name for 1.2.3; write 1.2.3', async () => {
    const message = await refusal('v1.2.3', []);
    expect(message).toMatch(
      /^"version" 'v1\.2\.3' is not a version the factory publishes: the devcontainer CLI would publish it as the tag 'v1\.2\.3', a second name for 1\.2\.3/,
    );
    expect(message).toMatch(/Write "1\.2\.3"$/);
  });

  test('GIVEN "version": "1.2.3+build.1" WHEN guarded THEN it is refused: + is not allowed in a registry tag; write 1.2.3', async () => {
    const message = await refusal('1.2.3+build.1', []);
    expect(message).toMatch(
      /^"version" '1\.2\.3\+build\.1' is not a version the factory publishes: build metadata \('\+build\.1'\) cannot be published: '\+' is not allowed in a registry tag/,
    );
    expect(message).toMatch(/Write "1\.2\.3", and bump PATCH for each new build$/);
  });

  test('GIVEN 1.1.0 published WHEN 0.2.0-rc.1 is guarded THEN the refusal names 0 and 0.2, the tags the CLI would move, and not latest', async () => {
    const message = await refusal('0.2.0-rc.1', ['1.1.0', '1.1', '1', 'latest']);
    expect(message).toBe(
      `"version" '0.2.0-rc.1' is a pre-release, and the factory publishes feature releases only: devcontainer features publish would move '0' and '0.2' to it, ` +
        `so whoever pins those tags would get the pre-release; publish a release version (MAJOR.MINOR.PATCH) instead, e.g. "0.2.0"`,
    );
  });

  test('GIVEN 1.1.0 published WHEN 1.1.1-rc.1 is guarded THEN the refusal names 1, 1.1 and latest', async () => {
    expect(await refusal('1.1.1-rc.1', ['1.1.0', '1.1', '1', 'latest'])).toMatch(/would move '1', '1\.1' and 'latest' to it[\s\S]*e\.g\. "1\.1\.1"$/);
  });

  test('GIVEN 1.1.0 published WHEN 1.1.0-rc.1 is guarded THEN it is refused, saying no other tag would move here, and suggests the next patch', async () => {
    const message = await refusal('1.1.0-rc.1', ['1.1.0', '1.1', '1', 'latest']);
    expect(message).toMatch(
      /^"version" '1\.1\.0-rc\.1' is a pre-release, and the factory publishes feature releases only \(devcontainer features publish would move no other tag to it here/,
    );
    expect(message).toMatch(/e\.g\. "1\.1\.1"$/);
  });

  test('GIVEN v2.0.0 published WHEN 2.0.1-rc.1 is guarded THEN v2.0.0 counts as 2.0.0, as the CLI counts it: 2.0, 2 and latest would move', async () => {
    expect(await refusal('2.0.1-rc.1', ['v2.0.0', '2', '2.0', 'latest'])).toMatch(/would move '2', '2\.0' and 'latest' to it/);
    expect(await refusal('2.0.0-rc.1', ['v2.0.0', '2', '2.0', 'latest'])).toMatch(/move no other tag to it here[\s\S]*e\.g\. "2\.0\.1"$/);
  });
});

describe('planFeaturePublish over a registry tag v2.0.0', () => {
  // 1.0.0 by the factory, then "version": "v2.0.0" by the CLI, which tagged 2, 2.0, v2.0.0 and latest.
  const history = ['1.0.0', '1.0', '1', 'v2.0.0', '2', '2.0', 'latest'];

  test.each<[string, string[], string[]]>([
    ['1.1.0', history, ['1.1.0', '1.1', '1']],
    ['2.0.0', [...history, '1.1.0', '1.1'], ['2.0.0']],
    ['2.0.1', [...history, '1.1.0', '1.1', '2.0.0'], ['2.0.1', '2.0', '2', 'latest']],
  ])('GIVEN %s is new WHEN planned over %j THEN it moves %j, exactly what devcontainer CLI 0.89.0 moved', async (version, tags, expected) => {
    // GIVEN
    const registry = await registryWithTags(tags);

    // WHEN
    const plan = await planFeaturePublish({ registry, namespace: NS, id: ID, version, packaged: new Map() });

    // THEN
    expect(plan.action).toBe('publish');
    expect(plan.tags).toEqual(expected);
  });
});
