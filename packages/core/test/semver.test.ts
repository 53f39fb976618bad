import { compareSemver, formatSemver, isSemver, parseSemver, semverTags, versionsAmongTags } from '../src/semver';

describe('parseSemver / isSemver', () => {
  test('GIVEN a release and a pre-release WHEN parsed THEN the parts come back', () => {
    expect(parseSemver('1.22.333')).toEqual({ major: 1, minor: 22, patch: 333, prerelease: [] });
    expect(parseSemver('2.0.0-rc.1')).toEqual({ major: 2, minor: 0, patch: 0, prerelease: ['rc', '1'] });
  });

  test.each(['1.2', 'v1.2.3', '01.2.3', '1.2.3+build.5', '1.2.3-', '1.2.3-01', 'latest', '20250501', ''])(
    'GIVEN %j WHEN checked THEN it is not a version',
    (text) => {
      expect(isSemver(text)).toBe(false);
    },
  );

  test('GIVEN a parsed version WHEN formatted THEN the text is the same', () => {
    expect(formatSemver(parseSemver('1.0.0-alpha.beta.1')!)).toBe('1.0.0-alpha.beta.1');
  });
});

describe('compareSemver', () => {
  test('GIVEN the precedence example of semver.org WHEN sorted THEN the order is the spec order', () => {
    // GIVEN
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
      '10.0.0',
    ];
    const shuffled = [...ordered].reverse();

    // WHEN
    const sorted = shuffled.sort((a, b) => compareSemver(parseSemver(a)!, parseSemver(b)!));

    // THEN
    expect(sorted).toEqual(ordered);
  });

  test('GIVEN equal versions WHEN compared THEN the result is 0', () => {
    expect(compareSemver(parseSemver('1.2.3-rc.1')!, parseSemver('1.2.3-rc.1')!)).toBe(0);
  });
});

describe('semverTags', () => {
  test('GIVEN an empty repository WHEN 1.2.3 is released THEN it gets 1.2.3, 1.2, 1 and latest', () => {
    expect(semverTags('1.2.3', [])).toEqual(['1.2.3', '1.2', '1', 'latest']);
  });

  test('GIVEN 1.2.3 released WHEN 1.2.4 is released THEN it moves 1.2, 1 and latest', () => {
    expect(semverTags('1.2.4', ['1.2.3', '1.2', '1', 'latest'])).toEqual(['1.2.4', '1.2', '1', 'latest']);
  });

  test('GIVEN 1.2.3 released WHEN back-port 1.1.9 is released THEN it moves none of 1, 1.2 or latest (only its own 1.1.9 and a new 1.1)', () => {
    expect(semverTags('1.1.9', ['1.2.3', '1.2', '1', 'latest'])).toEqual(['1.1.9', '1.1']);
  });

  test('GIVEN 1.1.10 and 1.2.3 released WHEN back-port 1.1.9 is released THEN it moves nothing but 1.1.9', () => {
    expect(semverTags('1.1.9', ['1.1.10', '1.1', '1.2.3', '1.2', '1', 'latest'])).toEqual(['1.1.9']);
  });

  test('GIVEN 2.0.0 released WHEN 1.3.0 is released THEN 1.3 and 1 move but latest stays', () => {
    expect(semverTags('1.3.0', ['1.2.3', '2.0.0', 'latest'])).toEqual(['1.3.0', '1.3', '1']);
  });

  test('GIVEN 1.2.3 released WHEN 1.2.3 is released again THEN the tags are the same as the first time', () => {
    expect(semverTags('1.2.3', ['1.2.3', '1.2', '1', 'latest'])).toEqual(['1.2.3', '1.2', '1', 'latest']);
  });

  test('GIVEN a pre-release WHEN released THEN it gets only its own tag', () => {
    expect(semverTags('2.0.0-rc.1', ['1.2.3'])).toEqual(['2.0.0-rc.1']);
  });

  test('GIVEN only a pre-release of 2.0.0 released WHEN 1.3.0 is released THEN the pre-release does not hold latest back, and 2.0.0 later takes everything', () => {
    expect(semverTags('1.3.0', ['1.2.3', '2.0.0-rc.1', 'latest'])).toEqual(['1.3.0', '1.3', '1', 'latest']);
    expect(semverTags('2.0.0', ['1.3.0', '2.0.0-rc.1'])).toEqual(['2.0.0', '2.0', '2', 'latest']);
  });

  test('GIVEN tags that are not versions WHEN a version is released THEN they are ignored', () => {
    expect(versionsAmongTags(['latest', '20250501', 'a1b2c3-amd64', '1.2', '1.0.0']).map(formatSemver)).toEqual(['1.0.0']);
    expect(semverTags('0.1.0', ['latest', '20250501', 'a1b2c3'])).toEqual(['0.1.0', '0.1', '0', 'latest']);
  });

  test('GIVEN a version that is not semver WHEN tags are asked for THEN it says what to write', () => {
    expect(() => semverTags('1.2', [])).toThrow(/'1.2' is not a semantic version \(X\.Y\.Z\)/);
  });
});
