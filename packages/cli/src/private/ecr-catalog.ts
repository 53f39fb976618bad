/**
 * What the factory has published to ECR for a namespace: the repositories of
 * images and features, and their tagged images.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { featureCollectionRepositoryName, isSemver, repositoryName, type ArtifactKind } from '@devcontainer-factory/core';
import { aws, errorName } from './aws-errors';
import { awsListingLimit } from './page-limit';

export interface CatalogRepository {
  readonly kind: ArtifactKind;
  readonly id: string;
  /** `<ns>/images/<id>` */
  readonly repository: string;
  /** `<registry>/<ns>/images/<id>` */
  readonly uri: string;
}

export interface TaggedImage {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedAt?: string;
  readonly bytes?: number;
}

/** Per-build tags: `<build>` and `<build>-<arch>` (a content hash); every other tag is a release tag. */
const BUILD_TAG = /^[0-9a-f]{12,64}(?:-(?:amd64|arm64))?$/;

/** Tags that a release moved: `latest`, `X`, `X.Y`, `X.Y.Z`, date tags, … (not per-build tags). */
export function releaseTags(tags: readonly string[]): string[] {
  return tags.filter((t) => !BUILD_TAG.test(t));
}

/** Image and feature repositories of a namespace, sorted by kind and id. */
export async function catalogRepositories(ecr: ECRClient, namespace: string): Promise<CatalogRepository[]> {
  const { DescribeRepositoriesCommand } = await import('@aws-sdk/client-ecr');
  const prefixes: [ArtifactKind, string][] = [
    ['image', repositoryName(namespace, 'image', '')],
    ['feature', repositoryName(namespace, 'feature', '')],
  ];
  const found: CatalogRepository[] = [];
  const pages = awsListingLimit('listing ECR repositories');
  let nextToken: string | undefined;
  do {
    pages.visit(nextToken ?? '');
    const page = await aws('listing ECR repositories', () => ecr.send(new DescribeRepositoriesCommand({ nextToken })));
    for (const r of page.repositories ?? []) {
      const name = r.repositoryName ?? '';
      if (name === featureCollectionRepositoryName(namespace)) continue;
      for (const [kind, prefix] of prefixes) {
        const id = name.slice(prefix.length);
        if (name.startsWith(prefix) && id && !id.includes('/')) found.push({ kind, id, repository: name, uri: r.repositoryUri ?? name });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return found.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}

/** Tagged images of a repository, newest first; undefined when the repository does not exist. */
export async function taggedImages(ecr: ECRClient, repository: string): Promise<TaggedImage[] | undefined> {
  const { DescribeImagesCommand } = await import('@aws-sdk/client-ecr');
  const images: TaggedImage[] = [];
  const pages = awsListingLimit(`listing the images of ${repository}`);
  let nextToken: string | undefined;
  do {
    pages.visit(nextToken ?? '');
    let page;
    try {
      page = await ecr.send(new DescribeImagesCommand({ repositoryName: repository, filter: { tagStatus: 'TAGGED' }, nextToken }));
    } catch (e) {
      if (errorName(e) === 'RepositoryNotFoundException') return undefined;
      return aws(`listing the images of ${repository}`, () => Promise.reject(e));
    }
    for (const d of page.imageDetails ?? []) {
      if (!d.imageDigest) continue;
      images.push({
        digest: d.imageDigest,
        tags: [...(d.imageTags ?? [])].sort(compareTags),
        ...(d.imagePushedAt ? { pushedAt: d.imagePushedAt.toISOString() } : {}),
        ...(d.imageSizeInBytes !== undefined ? { bytes: d.imageSizeInBytes } : {}),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return images.sort((a, b) => (b.pushedAt ?? '').localeCompare(a.pushedAt ?? ''));
}

/** `latest` first, then versions newest first, then the rest. */
function compareTags(a: string, b: string): number {
  const rank = (t: string) => (t === 'latest' ? 0 : /^\d+(\.\d+){0,2}$/.test(t) || isSemver(t) ? 1 : 2);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (rank(a) === 1) {
    const pa = a.split(/[.-]/).map((x) => Number(x));
    const pb = b.split(/[.-]/).map((x) => Number(x));
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const d = (pb[i] ?? -1) - (pa[i] ?? -1);
      if (d) return d;
    }
  }
  return a.localeCompare(b);
}
