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

/** Parses `X.Y.Z` or `X.Y.Z-pre`; undefined when the text is not a semantic version. */
export function parseSemver(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ? m[4].split('.') : [] };
}

export function isSemver(text: string): boolean {
  return parseSemver(text) !== undefined;
}

export function formatSemver(v: SemVer): string {
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
      const n = Number(x) - Number(y);
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
  if (!v) throw new Error(`'${version}' is not a semantic version (X.Y.Z)`);
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
