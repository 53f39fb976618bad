/**
 * The grammar of OCI names, once: digests, tags, repository path components and registry
 * hosts, as the distribution spec and Docker's reference grammar write them. Every parser
 * and check of the factory (image and feature references, the tags list, the inputs
 * artifact, the CodeBuild tools, the buildspecs' bash) is built from these, so they cannot
 * drift apart. `*_SOURCE` is the unanchored pattern, to compose into larger ones (also in
 * bash `[[ =~ ]]`, whose ERE reads them the same).
 */

/** A sha256 digest: `sha256:` and 64 lowercase hex digits (the only algorithm the factory writes or accepts). */
export const DIGEST_SOURCE = 'sha256:[a-f0-9]{64}';
/** A tag: a letter, digit or `_`, then up to 127 of those, `.` and `-` (distribution spec). */
export const TAG_SOURCE = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
/** One `/`-separated component of a repository path: lowercase alphanumerics joined by `.`, `_`, `__` or runs of `-`. */
export const PATH_COMPONENT_SOURCE = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** One DNS label of a registry host. */
const HOST_LABEL_SOURCE = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
/** A registry host: `localhost` or DNS labels joined by `.`, with an optional `:port`. */
export const HOST_SOURCE = `(?:localhost|${HOST_LABEL_SOURCE}(?:\\.${HOST_LABEL_SOURCE})*)(?::\\d{1,5})?`;

const DIGEST = new RegExp(`^${DIGEST_SOURCE}$`);
const TAG = new RegExp(`^${TAG_SOURCE}$`);
const PATH_COMPONENT = new RegExp(`^${PATH_COMPONENT_SOURCE}$`);
const HOST = new RegExp(`^${HOST_SOURCE}$`);

/** True for `sha256:` followed by 64 lowercase hex digits. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/** True for a tag the distribution spec allows. */
export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** True for one component of a repository path (`features`, `common-utils`). */
export function isPathComponent(value: string): boolean {
  return PATH_COMPONENT.test(value);
}

/** True for a registry host, with or without a port (`ghcr.io`, `localhost:5000`). */
export function isRegistryHost(value: string): boolean {
  return HOST.test(value);
}

/**
 * Whether the first `/`-separated component of a reference is a registry host, as Docker
 * reads it: one with a `.` or a `:`, or `localhost`. Without one, a reference names an
 * image on Docker Hub.
 */
export function namesRegistryHost(reference: string): boolean {
  const slash = reference.indexOf('/');
  if (slash < 0) return false;
  const first = reference.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}
