/**
 * The factory's tag vocabulary, once, each name with its format and its parse: the build
 * tag `<build>` (16 hex digits), the per-architecture tag `<build>-<arch>`, the date tag
 * `YYYYMMDD`, and the semantic version tags and lines (`X.Y.Z`, `X.Y`, `X`, from
 * `semver`); {@link classifyReleaseTags} reads a repository's tags by it. Build, Manifest,
 * Release and retention, and the buildspecs' bash (from {@link BUILD_ID_SOURCE}), all use
 * these.
 */
import { SUPPORTED_PLATFORMS } from '../oci/platform';
import { isSemver, parseSemver } from '../semver';

/** Length of a build id, in hex digits (64 bits: collisions are out of reach for one image's history). */
export const BUILD_ID_LENGTH = 16;
/** A build id, unanchored: to compose into larger patterns, and into bash `[[ =~ ]]`. */
export const BUILD_ID_SOURCE = `[0-9a-f]{${BUILD_ID_LENGTH}}`;
/** The architectures a build has per-architecture tags for (`amd64`, `arm64`). */
export const BUILD_ARCHES: readonly string[] = [...new Set(SUPPORTED_PLATFORMS.map((p) => p.split('/')[1]))];

const BUILD_ID = new RegExp(`^${BUILD_ID_SOURCE}$`);
const ARCH_TAG = new RegExp(`^(${BUILD_ID_SOURCE})-(${BUILD_ARCHES.join('|')})$`);
const DATE_TAG = /^(\d{4})(\d{2})(\d{2})$/;

/** True for a build id: {@link BUILD_ID_LENGTH} lowercase hex digits. */
export function isBuildId(value: string): boolean {
  return BUILD_ID.test(value);
}

/** Per-architecture tag of a build: `<build>-amd64`. */
export function archTag(buildId: string, arch: string): string {
  return `${buildId}-${arch}`;
}

/** The build and architecture of an {@link archTag}; undefined for any other tag. */
export function parseArchTag(tag: string): { readonly buildId: string; readonly arch: string } | undefined {
  const m = ARCH_TAG.exec(tag);
  return m ? { buildId: m[1], arch: m[2] } : undefined;
}

/** The build id of a `<build>` or `<build>-<arch>` tag; undefined for any other tag. */
export function buildIdOfTag(tag: string): string | undefined {
  return isBuildId(tag) ? tag : parseArchTag(tag)?.buildId;
}

/**
 * The date tag of a release: `YYYYMMDD` in UTC.
 * @throws RangeError when `now` is not a valid date
 */
export function dateTag(now: Date): string {
  if (Number.isNaN(now.getTime())) throw new RangeError('the release time is not a valid date');
  return now.toISOString().slice(0, 10).replace(/-/g, '');
}

/** The UTC day a {@link dateTag} names (midnight); undefined for a tag that is not a real date from 1970 on. */
export function parseDateTag(tag: string): Date | undefined {
  const m = DATE_TAG.exec(tag);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1970 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d ? date : undefined;
}

/** What a tag of a release repository is, by {@link classifyReleaseTags}. */
export type ReleaseTagClass = 'semver' | 'latest' | 'date' | 'build' | 'other';

/**
 * Sorts the tags of a release repository by the vocabulary Release writes:
 * `semver` (`X.Y.Z` and prereleases, and the lines `X.Y` and `X` of a version the
 * repository holds as `X.Y.Z`), `latest`, `date` (`YYYYMMDD`), `build` (`<build>`,
 * `<build>-<arch>`), `other`. A tag is read as what Release would have written it
 * as, never by its shape alone: `X` and `X.Y` are semver lines only beside an
 * `X.Y.Z` of theirs (Release writes them together, and retention never deletes an
 * `X.Y.Z`), so a build id made only of digits is a build tag and eight digits that
 * form a date are a date tag unless an `X.Y.Z` has them as its major. A tag shaped
 * like a line but with no `X.Y.Z` is `other` (kept: not a tag retention manages).
 */
export function classifyReleaseTags(tags: Iterable<string>): Map<string, ReleaseTagClass> {
  const all = [...tags];
  const lines = new Set<string>();
  for (const tag of all) {
    const v = parseSemver(tag);
    if (v) lines.add(String(v.major)).add(`${v.major}.${v.minor}`);
  }
  const out = new Map<string, ReleaseTagClass>();
  for (const tag of all) {
    if (tag === 'latest') out.set(tag, 'latest');
    else if (isSemver(tag) || lines.has(tag)) out.set(tag, 'semver');
    else if (parseDateTag(tag)) out.set(tag, 'date');
    else if (buildIdOfTag(tag)) out.set(tag, 'build');
    else out.set(tag, 'other');
  }
  return out;
}
