/**
 * References from one feature to another, as `installsAfter` and `dependsOn`
 * write them: `<registry>/<namespace>/<id>` with an optional `:<tag>` or
 * `@sha256:<digest>`, or an `https://` URL of a feature tarball.
 */

import { isDigest, isPathComponent, isRegistryHost, isTag, namesRegistryHost } from '../oci/names';

/** A feature reference split into its parts. */
export interface FeatureReference {
  /** Registry host and port, e.g. `ghcr.io`. */
  readonly registry: string;
  /** The repository path below the registry, e.g. `devcontainers/features/node`. */
  readonly path: string;
  /** The feature's id: the last segment of the path. */
  readonly id: string;
  readonly tag?: string;
  readonly digest?: string;
}

export interface ReferenceRules {
  /** Whether a `:tag` or `@digest` is allowed (`dependsOn`), or not (`installsAfter`, which lists ids without a version). */
  readonly versioned: boolean;
}

/** Parses `<registry>/<namespace>/<id>[:tag|@digest]`; undefined when it is not an OCI feature reference. */
export function parseFeatureReference(ref: string): FeatureReference | undefined {
  return parse(ref).reference;
}

/** True for a well-formed OCI feature reference (with or without a version). */
export function isFeatureReference(ref: string): boolean {
  return parse(ref).reference !== undefined;
}

/** What is wrong with a reference to another feature and how to write it; undefined when it is well-formed. */
export function referenceProblem(ref: string, rules: ReferenceRules): string | undefined {
  if (ref.trim() === '') return 'is empty: give a feature reference like ghcr.io/devcontainers/features/common-utils';
  if (/^https:\/\//.test(ref)) {
    try {
      new URL(ref);
      return undefined;
    } catch {
      return 'is not a valid URL';
    }
  }
  if (/^http:\/\//.test(ref)) return 'features are only fetched over https: use an https:// URL or a registry reference';
  if (ref.startsWith('./') || ref.startsWith('../') || ref.startsWith('/')) {
    return 'a published feature cannot depend on a local folder: publish that feature and use its registry reference, e.g. <registry>/<namespace>/<id>';
  }
  const { reference, problem } = parse(ref);
  if (!reference) return problem;
  if (!rules.versioned && (reference.tag || reference.digest)) {
    return `lists features without a version: write '${reference.registry}/${reference.path}' (the version is chosen where the feature is used)`;
  }
  return undefined;
}

function parse(ref: string): { reference?: FeatureReference; problem?: string } {
  if (/\s/.test(ref)) return { problem: 'must not contain spaces' };
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) return { problem: `'@${digest}' is not a digest: use @sha256:<64 hex digits>, or a tag such as ':1'` };
  }
  const segments = rest.split('/');
  if (segments.length < 3) {
    const hint = segments.length === 1 ? `, e.g. ghcr.io/devcontainers/features/${segments[0].split(':')[0] || 'common-utils'}` : '';
    return { problem: `is not a full feature reference: write <registry>/<namespace>/<id>${hint}` };
  }
  const [registry, ...path] = segments;
  let tag: string | undefined;
  const last = path[path.length - 1];
  const colon = last.indexOf(':');
  if (colon >= 0) {
    tag = last.slice(colon + 1);
    path[path.length - 1] = last.slice(0, colon);
    if (digest) return { problem: 'has both a tag and a digest: keep one' };
    if (!isTag(tag)) return { problem: `':${tag}' is not a valid tag: use letters, digits, '_', '.' and '-', e.g. ':1'` };
  }
  // As Docker reads it: a host has a '.' or a ':port', or is localhost; else the reference would name Docker Hub.
  if (!isRegistryHost(registry) || !namesRegistryHost(rest))
    return {
      problem: `'${registry}' is not a registry host: the reference starts with the registry, e.g. ghcr.io or 123456789012.dkr.ecr.eu-west-1.amazonaws.com`,
    };
  const bad = path.find((s) => !isPathComponent(s));
  if (bad !== undefined)
    return { problem: `'${bad}' is not a valid repository path segment: use lowercase letters, digits and single '.', '_' or '-' separators` };
  return { reference: { registry, path: path.join('/'), id: path[path.length - 1], tag, digest } };
}
