import { OciPlatform } from './manifest';
import { RegistryError } from './registry';

/** The platforms the factory builds, each on native hardware. */
export const SUPPORTED_PLATFORMS: readonly string[] = ['linux/amd64', 'linux/arm64', 'linux/arm64/v8'];

/** A platform such as `linux/arm64/v8`, split into its parts. */
export interface Platform extends OciPlatform {
  /** As written, e.g. `linux/arm64/v8`. */
  readonly name: string;
  /** What the per-arch tag ends with (`<build>-<arch>`): the architecture, e.g. `arm64`. */
  readonly arch: string;
}

/** Thrown for a platform the factory does not build. */
export class UnsupportedPlatformError extends RegistryError {}

/** Parses `os/architecture[/variant]`; throws {@link UnsupportedPlatformError} for anything outside {@link SUPPORTED_PLATFORMS}. */
export function parsePlatform(name: string): Platform {
  if (!SUPPORTED_PLATFORMS.includes(name)) {
    throw new UnsupportedPlatformError(`platform '${name}' is not supported: use one of ${SUPPORTED_PLATFORMS.join(', ')}`);
  }
  const [os, architecture, variant] = name.split('/');
  return { name, os, architecture, arch: architecture, ...(variant ? { variant } : {}) };
}

/** The variant that counts: arm64 without a variant is arm64/v8. */
function effectiveVariant(p: OciPlatform): string | undefined {
  if (p.architecture === 'arm64') return p.variant || 'v8';
  return p.variant || undefined;
}

/**
 * True when an image made for `actual` is what a client on `wanted` takes: same os
 * and architecture, and the same variant when `wanted` names one (arm64 and
 * arm64/v8 are the same platform).
 */
export function platformMatches(wanted: OciPlatform, actual: OciPlatform): boolean {
  if (wanted.os !== actual.os || wanted.architecture !== actual.architecture) return false;
  if (wanted.architecture !== 'arm64' && !wanted.variant) return true;
  return effectiveVariant(wanted) === effectiveVariant(actual);
}

/** `os/architecture[/variant]` of a platform. */
export function formatPlatform(p: OciPlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}
