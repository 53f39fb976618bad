/**
 * Container image references as Docker reads them: `[host[:port]/]path[:tag][@sha256:digest]`,
 * where a first component without `.` or `:` (and not `localhost`) is a Docker Hub path.
 */

import { isDigest, isPathComponent, isRegistryHost, isTag, namesRegistryHost } from './names';

/** Where Docker Hub's registry API answers (`docker.io` is only a name). */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

/** An image reference split into what a registry client needs. */
export interface ImageReference {
  /** The registry host clients talk to, e.g. `ghcr.io`, `localhost:5000`, `registry-1.docker.io`. */
  readonly host: string;
  /** The repository below it, e.g. `devcontainers/features/node`, `library/debian`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Parses an image (or feature) reference; undefined when it is not one. */
export function parseImageReference(ref: string): ImageReference | undefined {
  if (ref.length > 1024 || /\s/.test(ref)) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) return undefined;
  }
  const components = rest.split('/');
  const first = components[0];
  const named = namesRegistryHost(rest);
  let host = named ? first : 'docker.io';
  const path = named ? components.slice(1) : components;
  if (named && !isRegistryHost(host)) return undefined;
  if (path.length === 0 || !path.every(isPathComponent)) return undefined;
  if (host === 'docker.io' || host === 'index.docker.io') {
    host = DOCKER_HUB_REGISTRY;
    if (path.length === 1) path.unshift('library');
  }
  return { host, repository: path.join('/'), ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Whether a reference names an image on Docker Hub: no registry host, or `docker.io`, `index.docker.io`, `registry-1.docker.io`. */
export function isDockerHubReference(ref: string): boolean {
  return parseImageReference(ref)?.host === DOCKER_HUB_REGISTRY;
}

/**
 * Where a registry mirror of Docker Hub serves a Docker Hub image, as BuildKit's
 * `[registry."docker.io"] mirrors = ["<host>/<path>"]` reaches it: the mirror, then the
 * image's path on Docker Hub (official images under `library/`), then its tag or digest;
 * `python:3.12` behind `<account>.dkr.ecr.<region>.amazonaws.com/devcontainers/docker-hub`
 * (an ECR pull-through cache) is `<…>/devcontainers/docker-hub/library/python:3.12`.
 * @returns undefined for a reference that does not name a Docker Hub image
 */
export function dockerHubMirrorReference(ref: string, mirror: string): string | undefined {
  const parsed = parseImageReference(ref);
  if (parsed?.host !== DOCKER_HUB_REGISTRY) return undefined;
  return `${mirror.replace(/\/+$/, '')}/${parsed.repository}${parsed.tag !== undefined ? `:${parsed.tag}` : ''}${parsed.digest !== undefined ? `@${parsed.digest}` : ''}`;
}
