import {
  MAX_VERSION_PART,
  MEDIA_TYPES,
  ReleaseError,
  checkFeatureVersion,
  compareSemver,
  featureReleaseTags,
  formatProblem,
  formatSemver,
  isSemver,
  parseSemver,
  releaseImage,
  semverProblem,
  semverTags,
  validateFeatureFiles,
  validateImageFiles,
  writeZip,
  readImageSource,
  type FileSet,
} from '../src';
import { MemoryRegistry } from './support/memory-registry';

// A version is used as a tag exactly as it is written: every version the factory
// accepts must come back as the same text, and each part must be a number held
// exactly (at most 2^53 - 1). Before, 9007199254740993.0.0 was tagged
// 9007199254740992.0.0 and 1000000000000000000000.0.0 was tagged 1e+21.0.0.

const MAX = String(Number.MAX_SAFE_INTEGER); // 9007199254740991
const enc = (s: string) => new Uint8Array(Buffer.from(s));

describe('version bounds', () => {
  test.each(
    [
      // [version, accepted]
      ['0.0.0', true],
      [`${MAX}.0.0`, true],
      [`0.${MAX}.0`, true],
      [`0.0.${MAX}`, true],
      [`${MAX}.${MAX}.${MAX}`, true],
      ['9007199254740992.0.0', false],
      ['9007199254740993.0.0', false],
      ['0.9007199254740992.0', false],
      ['0.0.9007199254740992', false],
      ['1000000000000000000000.0.0', false],
      [`1.0.${'9'.repeat(400)}`, false],
      // Pre-release numeric identifiers are compared as digit strings, so any length is exact.
      ['1.0.0-rc.99999999999999999999999', true],
      // A version is a tag: at most 128 characters.
      [`1.0.0-${'a'.repeat(122)}`, true],
      [`1.0.0-${'a'.repeat(123)}`, false],
    ].map(
      ([version, accepted]) =>
        [String(version).length > 40 ? `${String(version).slice(0, 24)}… (${String(version).length} chars)` : version, accepted, version] as [
          string,
          boolean,
          string,
        ],
    ),
  )('%s: accepted %s, and when accepted its tag is exactly the version', (_label, accepted, version) => {
    expect(isSemver(version)).toBe(accepted);
    if (accepted) {
      expect(formatSemver(parseSemver(version)!)).toBe(version);
      expect(semverTags(version, [])[0]).toBe(version);
      expect(semverProblem(version)).toBeUndefined();
    } else {
      expect(parseSemver(version)).toBeUndefined();
      expect(semverProblem(version)).toBeDefined();
    }
  });

  test('the problem names the part that is too large and the bound', () => {
    expect(semverProblem('9007199254740992.0.0')).toBe(
      `'9007199254740992.0.0': MAJOR 9007199254740992 is larger than ${MAX} (2^53 - 1), the largest version part the factory can tag exactly`,
    );
    expect(semverProblem('1.2.1e3')).toMatch(/is not a semantic version/);
    expect(semverProblem(`1.0.0-${'a'.repeat(200)}`)).toMatch(/has 206 characters: a version is a registry tag, at most 128 characters/);
  });

  test('formatSemver refuses parts it cannot write exactly', () => {
    expect(() => formatSemver({ major: MAX_VERSION_PART + 1, minor: 0, patch: 0, prerelease: [] })).toThrow(RangeError);
    expect(() => formatSemver({ major: 1e21, minor: 0, patch: 0, prerelease: [] })).toThrow(/version part 1e\+21 is not a whole number/);
    expect(() => formatSemver({ major: 1.5, minor: 0, patch: 0, prerelease: [] })).toThrow(RangeError);
  });

  test('versions at the bound and long pre-release numbers compare exactly', () => {
    const v = (t: string) => parseSemver(t)!;
    expect(compareSemver(v(`${MAX}.0.0`), v('9007199254740990.0.0'))).toBeGreaterThan(0);
    expect(compareSemver(v('1.0.0-rc.99999999999999999999998'), v('1.0.0-rc.99999999999999999999999'))).toBeLessThan(0);
    expect(compareSemver(v('1.0.0-rc.100000000000000000000000'), v('1.0.0-rc.99999999999999999999999'))).toBeGreaterThan(0);
    expect(compareSemver(v('1.0.0-rc.9007199254740993'), v('1.0.0-rc.9007199254740992'))).toBeGreaterThan(0);
  });

  test('the tags of a version at the bound are the version and its lines, written exactly', () => {
    expect(semverTags(`${MAX}.${MAX}.${MAX}`, [])).toEqual([`${MAX}.${MAX}.${MAX}`, `${MAX}.${MAX}`, MAX, 'latest']);
    expect(featureReleaseTags(`${MAX}.0.1`, [`${MAX}.0.0`])).toEqual([`${MAX}.0.1`, `${MAX}.0`, MAX, 'latest']);
    expect(() => featureReleaseTags('9007199254740992.0.0', [])).toThrow(/MAJOR 9007199254740992 is larger than/);
  });

  test('a release of a version beyond the bound is refused before anything is tagged', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    const repository = 'devcontainers/images/python';
    await registry.putManifest(
      repository,
      'b1',
      MEDIA_TYPES.ociIndex,
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] })),
    );
    const puts = registry.puts.length;

    // WHEN
    const releasing = releaseImage(registry, repository, {
      buildId: 'b1',
      version: '9007199254740993.0.0',
      rules: { latest: true, semver: true, date: true },
      now: new Date(),
    });

    // THEN
    await expect(releasing).rejects.toThrow(ReleaseError);
    await expect(releasing).rejects.toThrow(
      /customizations\['devcontainer-factory'\]\.version: '9007199254740993\.0\.0': MAJOR 9007199254740993 is larger than 9007199254740991/,
    );
    expect(registry.puts.length).toBe(puts);
  });

  test('a feature version beyond the bound is refused by the version guard and by validation', async () => {
    await expect(
      checkFeatureVersion({ registry: new MemoryRegistry(), namespace: 'ns', id: 'hello', version: '1.9007199254740992.0', packaged: new Map() }),
    ).rejects.toThrow(/"version" '1\.9007199254740992\.0': MINOR 9007199254740992 is larger than/);
    const files: FileSet = new Map([
      ['devcontainer-feature.json', enc(JSON.stringify({ id: 'hello', version: '1e21.0.0', name: 'Hello' }))],
      ['install.sh', enc('#!/bin/sh\n')],
    ]);
    expect(validateFeatureFiles(files).map(formatProblem).join('\n')).toMatch(/"version" '1e21\.0\.0' is not a semantic version/);
    const huge: FileSet = new Map([
      ...files,
      ['devcontainer-feature.json', enc(JSON.stringify({ id: 'hello', version: '9007199254740992.0.0', name: 'Hello' }))],
    ]);
    expect(validateFeatureFiles(huge).map(formatProblem).join('\n')).toMatch(/"version" '9007199254740992\.0\.0' is not a semantic version/);
  });

  test('an image configuration with a version beyond the bound fails validation (dcf validate, dcf push) and Prepare', () => {
    const config = JSON.stringify({
      image: 'mcr.microsoft.com/devcontainers/base:bookworm',
      customizations: { 'devcontainer-factory': { version: '1000000000000000000000.0.0' } },
    });
    const files: FileSet = new Map([['.devcontainer/devcontainer.json', enc(config)]]);
    expect(validateImageFiles(files).map(formatProblem).join('\n')).toMatch(/"1000000000000000000000\.0\.0" is not a semantic version/);
    expect(() => readImageSource(writeZip({ files, executables: new Set() }))).toThrow(/version '1000000000000000000000\.0\.0' is not a semantic version/);
  });
});
