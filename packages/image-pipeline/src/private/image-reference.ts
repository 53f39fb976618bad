/**
 * Whether a string is a container image reference as Docker parses it:
 * `[host[:port]/]name[/name…][:tag][@sha256:digest]`, names in lowercase.
 */
export function isImageReference(value: string): boolean {
  return IMAGE_REFERENCE.test(value);
}

const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const HOST = `${LABEL}(?:\\.${LABEL})*(?::[0-9]+)?`;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*(?::\\w[\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`);

/**
 * Whether a reference names its registry host (`public.ecr.aws/…`, `<account>.dkr.ecr…/…`,
 * `localhost:5000/…`), as Docker reads the first component: one with a `.` or `:`, or
 * `localhost`. Without one, Docker pulls from Docker Hub.
 */
export function hasRegistryHost(reference: string): boolean {
  const slash = reference.indexOf('/');
  if (slash < 0) return false;
  const first = reference.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** How a reference pins what it names: by `@sha256:` digest, by tag only, or not at all (Docker then pulls `:latest`). */
export function referencePin(reference: string): 'digest' | 'tag' | 'none' {
  if (/@sha256:[0-9a-f]{64}$/.test(reference)) return 'digest';
  const lastSlash = reference.lastIndexOf('/');
  return reference.indexOf(':', lastSlash + 1) >= 0 ? 'tag' : 'none';
}
