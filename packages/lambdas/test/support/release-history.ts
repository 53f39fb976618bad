import type { MemoryEcr } from './memory-ecr';

const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

/** The build id of release `n`: 16 hex digits, as Prepare makes them. */
export const buildOf = (n: number) => `b${n.toString(16).padStart(15, '0')}`;

/** `YYYYMMDD` of day `n` after 2000-01-01. */
export const dateOf = (n: number) => new Date(Date.UTC(2000, 0, 1 + n)).toISOString().slice(0, 10).replace(/-/g, '');

/**
 * A release repository after `releases` daily releases, as Release leaves it: per
 * release a per-arch image (`<build>-amd64`) and an index (`<build>`, its date tag),
 * and every `versionEvery`-th release also `1.<k>.0`, `1.<k>`, `1`, `latest` moving
 * forward. Three tags a release, so 3,400 releases are about 10,000 tags.
 */
export function releaseHistory(ecr: MemoryEcr, repository: string, releases: number, versionEvery = 50): void {
  for (let n = 0; n < releases; n++) {
    const build = buildOf(n);
    const config = `sha256:${n.toString(16).padStart(64, '0')}`;
    const image = JSON.stringify({
      schemaVersion: 2,
      mediaType: IMAGE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
      layers: [],
    });
    const imageDigest = ecr.put(repository, image, IMAGE, `${build}-amd64`);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [{ mediaType: IMAGE, digest: imageDigest, size: image.length, platform: { os: 'linux', architecture: 'amd64' } }],
    });
    ecr.put(repository, index, INDEX, build);
    ecr.put(repository, index, INDEX, dateOf(n));
    if (n % versionEvery === 0) {
      const k = n / versionEvery;
      for (const tag of [`1.${k}.0`, `1.${k}`, '1', 'latest']) ecr.put(repository, index, INDEX, tag);
    }
  }
}
