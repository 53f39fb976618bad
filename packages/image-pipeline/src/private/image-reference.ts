/**
 * Image references in the construct's props, read by core's one reference grammar
 * (`parseImageReference`), as Docker parses them: `[host[:port]/]name[/name…][:tag][@sha256:digest]`.
 */
import { parseImageReference } from '@devcontainer-factory/core';

/** Whether a string is a container image reference as Docker parses it. */
export function isImageReference(value: string): boolean {
  return parseImageReference(value) !== undefined;
}

/** How a reference pins what it names: by `@sha256:` digest, by tag only, or not at all (Docker then pulls `:latest`). */
export function referencePin(reference: string): 'digest' | 'tag' | 'none' {
  const parsed = parseImageReference(reference);
  return parsed?.digest ? 'digest' : parsed?.tag !== undefined ? 'tag' : 'none';
}
