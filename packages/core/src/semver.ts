/**
 * Semantic versions and the release tags they move, shared by image releases and
 * feature publishing. `X.Y.Z` never moves; `X.Y`, `X` and `latest` move only when
 * the version is the newest of its line, as the devcontainer CLI does for features.
 */

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers, e.g. `['rc', '1']` for `1.0.0-rc.1`; empty for a release. */
  readonly prerelease: readonly string[];
}

// semver.org 2.0.0, without build metadata (a `+` is not valid in a registry tag).
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;

/**
 * The largest `MAJOR`, `MINOR` or `PATCH` the factory accepts: `Number.MAX_SAFE_INTEGER`
 * (2^53 - 1). A larger part cannot be held exactly as a number, and would be tagged
 * `9007199254740992.0.0` or `1e+21.0.0` instead of the version that was asked for.
 */
export const MAX_VERSION_PART = Number.MAX_SAFE_INTEGER;

/** The longest version the factory accepts: the version is a registry tag, and a tag has at most 128 characters. */
export const MAX_VERSION_LENGTH = 128;

/** Compares two decimal digit strings without leading zeros as the numbers they write: by length, then digit by digit. */
export function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

const MAX_PART_DIGITS = String(MAX_VERSION_PART);

/**
 * Why `text` is not a version the factory can release, or undefined when it is one:
 * not `X.Y.Z[-pre]`, a part beyond {@link MAX_VERSION_PART}, or longer than
 * {@link MAX_VERSION_LENGTH} characters (the version is used as a tag as it is written).
 */
export function semverProblem(text: string): string | undefined {
  const m = SEMVER.exec(text);
  if (!m) return `'${text}' is not a semantic version: use MAJOR.MINOR.PATCH such as 1.2.3 (optionally with a pre-release, 1.2.3-rc.1)`;
  const names = ['MAJOR', 'MINOR', 'PATCH'];
  for (let i = 0; i < 3; i++) {
    if (compareDigits(m[i + 1], MAX_PART_DIGITS) > 0) {
      return `'${text}': ${names[i]} ${m[i + 1]} is larger than ${MAX_PART_DIGITS} (2^53 - 1), the largest version part the factory can tag exactly`;
    }
  }
  if (text.length > MAX_VERSION_LENGTH)
    return `'${text.slice(0, 40)}…' has ${text.length} characters: a version is a registry tag, at most ${MAX_VERSION_LENGTH} characters`;
  return undefined;
}

/**
 * Parses `X.Y.Z` or `X.Y.Z-pre`; undefined when the text is not a semantic version
 * the factory can release (see {@link semverProblem} for the reason).
 */
export function parseSemver(text: string): SemVer | undefined {
  if (semverProblem(text) !== undefined) return undefined;
  const m = SEMVER.exec(text)!;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ? m[4].split('.') : [] };
}

export function isSemver(text: string): boolean {
  return parseSemver(text) !== undefined;
}

/**
 * The text of a version. Each part must be a whole number from 0 to
 * {@link MAX_VERSION_PART}, so that the text (the tag) is exactly the version.
 * @throws RangeError for a part that is not
 */
export function formatSemver(v: SemVer): string {
  for (const part of [v.major, v.minor, v.patch]) {
    if (!Number.isSafeInteger(part) || part < 0) throw new RangeError(`version part ${part} is not a whole number from 0 to ${MAX_VERSION_PART}`);
  }
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}`;
}

/** Orders versions as semver.org does: negative when a < b. */
export function compareSemver(a: SemVer, b: SemVer): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return d;
  if (!a.prerelease.length || !b.prerelease.length) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      // As digit strings: a numeric identifier may be longer than a number holds exactly.
      const n = compareDigits(x, y);
      if (n !== 0) return n;
    } else if (xn !== yn) {
      return xn ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** The full versions (`X.Y.Z`, with pre-release) among a repository's tags. */
export function versionsAmongTags(tags: readonly string[]): SemVer[] {
  return tags.map(parseSemver).filter((v): v is SemVer => v !== undefined);
}

/**
 * The tags a release of `version` applies, given the versions already released in
 * the repository: always `X.Y.Z`; `X.Y` when no released `X.Y.*` is newer; `X` when
 * no released `X.*` is newer; `latest` when no released version is newer. A
 * pre-release gets only its own tag.
 */
export function semverTags(version: string, released: readonly string[]): string[] {
  const v = parseSemver(version);
  if (!v) throw new Error(SEMVER.test(version) ? semverProblem(version) : `'${version}' is not a semantic version (X.Y.Z)`);
  const full = formatSemver(v);
  if (v.prerelease.length) return [full];
  const others = versionsAmongTags(released).filter((o) => o.prerelease.length === 0);
  const newest = (pool: SemVer[]) => pool.every((o) => compareSemver(v, o) >= 0);
  const tags = [full];
  if (newest(others.filter((o) => o.major === v.major && o.minor === v.minor))) tags.push(`${v.major}.${v.minor}`);
  if (newest(others.filter((o) => o.major === v.major))) tags.push(`${v.major}`);
  if (newest(others)) tags.push('latest');
  return tags;
}
