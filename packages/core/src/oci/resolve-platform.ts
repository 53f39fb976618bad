import { OciPlatform, parseManifest } from './manifest';
import { formatPlatform, platformMatches } from './platform';
import { Registry, RegistryError } from './registry';

/** Splits `os/architecture[/variant]`, e.g. `linux/arm64/v8`. */
function splitPlatform(platform: string): OciPlatform {
  const [os, architecture, variant, ...rest] = platform.split('/');
  if (!os || !architecture || rest.length) {
    throw new RegistryError(`platform '${platform}' is invalid: write os/architecture[/variant], e.g. linux/amd64`);
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/**
 * The image manifest digest a client on `platform` pulls for `reference`, as
 * `docker pull --platform` chooses it: from an index, the first entry whose os and
 * architecture match (arm64 and arm64/v8 are the same); a single image manifest
 * is pulled as it is. Throws when the reference is missing or the index has
 * nothing for the platform.
 * @param reference a tag or digest
 * @param platform e.g. `linux/arm64`
 */
export async function resolvePlatform(registry: Registry, repository: string, reference: string, platform: string): Promise<string> {
  const wanted = splitPlatform(platform);
  const where = `${registry.host}/${repository}:${reference}`;
  const stored = await registry.getManifest(repository, reference);
  if (!stored) throw new RegistryError(`${where} does not exist`);
  const parsed = parseManifest(stored, where);
  if (parsed.kind === 'image') return stored.digest;
  const entry = parsed.index.manifests.find((m) => m.platform && platformMatches(wanted, m.platform));
  if (!entry) {
    const offered = parsed.index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown')).join(', ');
    throw new RegistryError(`${where} has no image for ${platform}; it offers ${offered || 'nothing'}`);
  }
  return entry.digest;
}
