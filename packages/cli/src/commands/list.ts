/** `dcf list`: the images and features of the namespace with their release tags and digests. */
import { Command } from 'commander';
import { type ArtifactKind, compareSemver, formatSemver, mapLimit, versionsAmongTags } from '@devcontainer-factory/core';
import { ExitCode } from '../dcf-error';
import { catalogRepositories, releaseTags, taggedImages } from '../private/ecr-catalog';
import { findFactory } from '../private/factory';
import { kindOption } from '../private/options';
import { table } from '../private/output';
import type { App, Session } from '../private/session';

interface ListOptions {
  readonly kind?: ArtifactKind;
}

export interface ListedArtifact {
  readonly kind: ArtifactKind;
  readonly id: string;
  readonly repository: string;
  /** Highest released version (X.Y.Z), when there is one. */
  readonly version?: string;
  /** Digest of the image `latest` points to (or of the newest image). */
  readonly digest?: string;
  /** Release tags of that image. */
  readonly tags: readonly string[];
  readonly pushedAt?: string;
  /** What to pull or reference. */
  readonly reference: string;
}

export function listCommand(app: App): Command {
  return new Command('list')
    .summary('list published images and features with their release tags and digests')
    .description(
      'List the images and features published in the namespace: the highest version, the release tags and digest of the latest image, and when it was pushed.',
    )
    .addOption(kindOption())
    .addHelpText('after', '\nExamples:\n  $ dcf list\n  $ dcf list --kind feature --json\n')
    .action(app.action(async (session, options: ListOptions) => list(session, options)));
}

async function list(session: Session, options: ListOptions): Promise<number> {
  const namespace = session.options.namespace;
  await findFactory(session.aws, namespace, undefined, session.options);
  const ecr = await session.aws.ecr();
  const repositories = (await catalogRepositories(ecr, namespace)).filter((r) => !options.kind || r.kind === options.kind);
  const listed = await mapLimit(repositories, 4, async (r): Promise<ListedArtifact> => {
    const images = (await taggedImages(ecr, r.repository)) ?? [];
    const head = images.find((i) => i.tags.includes('latest')) ?? images[0];
    const versions = versionsAmongTags(images.flatMap((i) => i.tags)).sort(compareSemver);
    const version = versions.length ? formatSemver(versions[versions.length - 1]) : undefined;
    const referenceTag = r.kind === 'feature' && version ? version.split('.')[0] : 'latest';
    return {
      kind: r.kind,
      id: r.id,
      repository: r.repository,
      ...(version ? { version } : {}),
      ...(head ? { digest: head.digest } : {}),
      tags: head ? releaseTags(head.tags) : [],
      ...(head?.pushedAt ? { pushedAt: head.pushedAt } : {}),
      reference: `${r.uri}:${referenceTag}`,
    };
  });

  const { out } = session;
  if (out.json) {
    out.data(listed);
    return ExitCode.Ok;
  }
  if (listed.length === 0) {
    out.print(`nothing published in namespace '${namespace}' yet: push a configuration with "dcf push <dir>"`);
    return ExitCode.Ok;
  }
  const rows = [
    ['KIND', 'ID', 'VERSION', 'DIGEST', 'PUSHED', 'TAGS'],
    ...listed.map((a) => [
      a.kind,
      a.id,
      a.version ?? '-',
      a.digest ? shortDigest(a.digest) : '(nothing released)',
      a.pushedAt?.slice(0, 16).replace('T', ' ') ?? '-',
      a.tags.join(' '),
    ]),
  ];
  table(rows).forEach((line, i) => out.print(i === 0 ? out.style.bold(line) : line));
  return ExitCode.Ok;
}

export function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1');
}
