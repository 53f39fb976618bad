/**
 * The build id of an image: what identifies one build's content, so that an
 * unchanged upload (same zip bytes, same base images) is recognised as already
 * released and skips Build, Manifest and Test.
 */
import { createHash } from 'node:crypto';
import { BUILD_ID_LENGTH } from './release-tags';

/** A base image the build is on, as it was when the build started. */
export interface BaseImageDigest {
  /** Repository, e.g. `devcontainers/images/base`. */
  readonly repository: string;
  /** `sha256:…` its `latest` tag pointed at. */
  readonly digest: string;
}

/** A resolved input of the build (see `build-inputs.ts`), as it enters the id. */
export interface BuildIdInput {
  readonly kind: string;
  readonly reference: string;
  readonly digest: string;
}

/**
 * The first 16 hex digits of sha256 over the zip's bytes, then, for each base
 * image of `dependsOn` sorted by repository, a newline and `<repository>@<digest>`,
 * then for each input (base images and features the configuration names) sorted,
 * a newline and `<kind> <reference>@<digest>`. The same bytes on the same inputs
 * give the same id; a moved base or feature gives a new one.
 */
export function imageBuildId(zip: Uint8Array, bases: readonly BaseImageDigest[] = [], inputs: readonly BuildIdInput[] = []): string {
  const hash = createHash('sha256').update(zip);
  for (const base of [...bases].sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0))) {
    hash.update(`\n${base.repository}@${base.digest}`);
  }
  for (const line of inputs.map((i) => `${i.kind} ${i.reference}@${i.digest}`).sort()) hash.update(`\n${line}`);
  return hash.digest('hex').slice(0, BUILD_ID_LENGTH);
}
