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
