import { cliCountedReleases, featureReleaseTags, featureVersionProblem, formatSemver } from '../../src';

// `featureReleaseTags` is the rule of `devcontainer features publish` (getSemanticTags in
// devcontainers/cli src/spec-node/collectionCommonUtils/publishCommandImpl.ts): for each of
// `X.x.x`, `X.Y.x` and `x.x.x` it takes node-semver's maxSatisfying over the registry's tags
// and moves `X`, `X.Y` or `latest` when there is none or the version is strictly greater.

describe('featureReleaseTags', () => {
  test.each<[string, string[], string[]]>([
    ['1.2.3', [], ['1.2.3', '1.2', '1', 'latest']],
    ['1.2.4', ['1.2.3', '1.2', '1', 'latest'], ['1.2.4', '1.2', '1', 'latest']],
    ['1.1.9', ['1.2.3', '1.2.4', '1.2', '1', 'latest'], ['1.1.9', '1.1']],
    ['1.1.10', ['1.1.9', '1.1', '1.2.4', '1.2', '1', 'latest'], ['1.1.10', '1.1']],
    ['1.3.0', ['1.2.4', '2.0.0', '2', 'latest'], ['1.3.0', '1.3', '1']],
    ['2.0.0', ['1.2.4', '1.2', '1', 'latest'], ['2.0.0', '2.0', '2', 'latest']],
  ])('publishing %s over %j moves %j', (version, published, tags) => {
    expect(featureReleaseTags(version, published)).toEqual(tags);
  });

  // Each row as devcontainer CLI 0.89.0 published it, in this order, to a CNCF distribution
  // registry: `v2.0.0` came from a feature whose "version" was "v2.0.0" (the CLI tagged it
  // 2, 2.0, v2.0.0 and latest); the CLI then counts it as 2.0.0.
  describe('GIVEN a registry tag v2.0.0 written by the CLI or by hand', () => {
    const history = ['1.0.0', '1.0', '1', 'v2.0.0', '2', '2.0', 'latest'];

    test('WHEN 1.1.0 is published THEN latest stays on 2.0.0, as the CLI leaves it (it used to move)', () => {
      expect(featureReleaseTags('1.1.0', history)).toEqual(['1.1.0', '1.1', '1']);
    });

    test('WHEN 2.0.0 is published THEN only its own tag moves: the CLI does not count it newer than v2.0.0', () => {
      expect(featureReleaseTags('2.0.0', [...history, '1.1.0', '1.1'])).toEqual(['2.0.0']);
    });

    test('WHEN 2.0.1 is published THEN 2.0, 2 and latest move', () => {
      expect(featureReleaseTags('2.0.1', [...history, '1.1.0', '1.1', '2.0.0'])).toEqual(['2.0.1', '2.0', '2', 'latest']);
    });
  });

  test('GIVEN 1.1.0 published WHEN the tags of pre-releases are asked for THEN they are the ones the CLI moves (0.2.0-rc.1: 0 and 0.2, not latest)', () => {
    const published = ['1.1.0', '1.1', '1', 'latest'];
    expect(featureReleaseTags('0.2.0-rc.1', published)).toEqual(['0.2.0-rc.1', '0.2', '0']);
    expect(featureReleaseTags('1.1.1-rc.1', published)).toEqual(['1.1.1-rc.1', '1.1', '1', 'latest']);
    expect(featureReleaseTags('1.1.0-rc.1', published)).toEqual(['1.1.0-rc.1']);
  });

  test('GIVEN the version is already a tag WHEN asked THEN nothing is pushed (the CLI skips it)', () => {
    expect(featureReleaseTags('1.2.3', ['1.2.3', '1.2', '1', 'latest'])).toEqual([]);
  });

  test('refuses a version that is not semantic', () => {
    expect(() => featureReleaseTags('1.2', [])).toThrow(/'1\.2' is not a semantic version/);
  });

  test('refuses a v prefix and build metadata, which the CLI would publish', () => {
    expect(() => featureReleaseTags('v1.2.3', [])).toThrow(/'v1\.2\.3' is not a version the factory publishes/);
    expect(() => featureReleaseTags('1.2.3+build.1', [])).toThrow(/'1\.2\.3\+build\.1' is not a version the factory publishes/);
  });
});

describe('cliCountedReleases', () => {
  test('GIVEN a repository tag list WHEN read as the CLI reads it THEN whole releases count, with or without a lowercase v, and nothing else', () => {
    const tags = ['latest', '2', '2.0', 'v2.0.0', '1.2.3', 'V3.0.0', 'vv4.0.0', '5.0.0-rc.1', 'v6.0.0-rc.1', '01.0.0', 'v1.2', '20250501', 'a1b2c3-amd64'];
    expect(cliCountedReleases(tags).map(formatSemver)).toEqual(['2.0.0', '1.2.3']);
  });
});

describe('featureVersionProblem', () => {
  test.each(['1.2.3', '0.0.0', '2.0.0-rc.1'])('GIVEN %j WHEN checked THEN it has no problem of its own', (version) => {
    expect(featureVersionProblem(version)).toBeUndefined();
  });

  test('GIVEN v1.2.3 WHEN checked THEN it says the tag would be a second name for 1.2.3, and to write 1.2.3', () => {
    expect(featureVersionProblem('v1.2.3')).toBe(
      `'v1.2.3' is not a version the factory publishes: the devcontainer CLI would publish it as the tag 'v1.2.3', a second name for 1.2.3 that the factory cannot keep immutable: ` +
        `to the CLI, 1.2.3 would still be unpublished, and could go out beside it with other content. Write "1.2.3"`,
    );
  });

  test('GIVEN 1.2.3+build.1 WHEN checked THEN it says + is not allowed in a registry tag, builds are not ordered, and to write 1.2.3', () => {
    const problem = featureVersionProblem('1.2.3+build.1')!;
    expect(problem).toMatch(
      /^'1\.2\.3\+build\.1' is not a version the factory publishes: build metadata \('\+build\.1'\) cannot be published: '\+' is not allowed in a registry tag \(\[a-zA-Z0-9_\]\[a-zA-Z0-9\._-\]\{0,127\}\)/,
    );
    expect(problem).toMatch(/the devcontainer CLI could move '1' and '1\.2' and then fail to push the version's own tag/);
    expect(problem).toMatch(/semver orders 1\.2\.3\+a and 1\.2\.3\+b as one version/);
    expect(problem).toMatch(/Write "1\.2\.3", and bump PATCH for each new build$/);
  });

  test('GIVEN both a v and build metadata WHEN checked THEN both reasons are given', () => {
    expect(featureVersionProblem('v1.2.3+b')).toMatch(/a second name for 1\.2\.3[\s\S]*; build metadata \('\+b'\)[\s\S]*Write "1\.2\.3"/);
  });

  test.each([
    ['1.2', /^'1\.2' is not a semantic version: use MAJOR\.MINOR\.PATCH, e\.g\. "1\.0\.0"$/],
    ['v1.2', /^'v1\.2' is not a semantic version/],
    ['V1.2.3', /^'V1\.2\.3' is not a semantic version/],
    ['9007199254740992.0.0', /MAJOR 9007199254740992 is larger than/],
  ])('GIVEN %j WHEN checked THEN it is not a semantic version the factory can tag', (version, message) => {
    expect(featureVersionProblem(version)).toMatch(message);
  });
});
