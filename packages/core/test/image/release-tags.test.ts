import { BUILD_ID_LENGTH, BUILD_ID_SOURCE, archTag, buildIdOfTag, dateTag, isBuildId, parseArchTag, parseDateTag } from '../../src/image/release-tags';
import { imageBuildId } from '../../src/image/image-build-id';

// The tag vocabulary: each tag's format and parse agree, and the build id the factory
// computes is what the vocabulary reads as one.

describe('release tags', () => {
  test('a computed build id is a build id, by the pattern the buildspecs use too', () => {
    const id = imageBuildId(new Uint8Array([1, 2, 3]));
    expect(id).toHaveLength(BUILD_ID_LENGTH);
    expect(isBuildId(id)).toBe(true);
    expect(new RegExp(`^${BUILD_ID_SOURCE}$`).test(id)).toBe(true);
    expect(isBuildId(id.toUpperCase())).toBe(false);
    expect(isBuildId(id.slice(1))).toBe(false);
  });

  test.each(['amd64', 'arm64'])('archTag and parseArchTag are a pair (%s)', (arch) => {
    const id = 'fedcba9876543210';
    expect(archTag(id, arch)).toBe(`${id}-${arch}`);
    expect(parseArchTag(archTag(id, arch))).toEqual({ buildId: id, arch });
    expect(buildIdOfTag(archTag(id, arch))).toBe(id);
    expect(buildIdOfTag(id)).toBe(id);
  });

  test.each(['fedcba9876543210-s390x', 'fedcba987654321-amd64', 'latest', '1.2.3', 'fedcba9876543210-amd64-x'])('%s is no build tag', (tag) => {
    expect(parseArchTag(tag)).toBeUndefined();
    expect(buildIdOfTag(tag)).toBeUndefined();
  });

  test('dateTag and parseDateTag are a pair, in UTC', () => {
    const tag = dateTag(new Date('2025-05-01T23:30:00-05:00'));
    expect(tag).toBe('20250502');
    expect(parseDateTag(tag)).toEqual(new Date('2025-05-02T00:00:00Z'));
    expect(dateTag(parseDateTag(tag)!)).toBe(tag);
  });

  test.each(['20250230', '19691231', '2025051', '202505011', 'abcdefgh'])('%s is no date tag', (tag) => {
    expect(parseDateTag(tag)).toBeUndefined();
  });

  test('an invalid time has no date tag, and the error says so', () => {
    expect(() => dateTag(new Date('not a date'))).toThrow(new RangeError('the release time is not a valid date'));
  });

  test('the first day a date tag can name is 1970-01-01', () => {
    expect(parseDateTag('19700101')).toEqual(new Date('1970-01-01T00:00:00Z'));
  });
});
