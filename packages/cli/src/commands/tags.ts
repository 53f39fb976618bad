/** `dcf tags <id>`: every tagged image of one image or feature, with its tags and digest. */
import { Command } from 'commander';
import { idProblem, repositoryName, type ArtifactKind } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { taggedImages } from '../private/ecr-catalog';
import { findFactory } from '../private/factory';
import { kindOption } from '../private/options';
import { table } from '../private/output';
import type { App, Session } from '../private/session';

interface TagsOptions {
  readonly kind?: ArtifactKind;
}

export function tagsCommand(app: App): Command {
  return new Command('tags')
    .summary('list the tags and digests of one image or feature')
    .description(
      'List every tagged image of an image or feature, newest first: its digest, when it was pushed, and all its tags (release tags and per-build tags).',
    )
    .argument('<id>', 'image or feature id')
    .addOption(kindOption())
    .addHelpText('after', '\nExamples:\n  $ dcf tags python\n  $ dcf tags hello --kind feature --json\n')
    .action(app.action(async (session, id: string, options: TagsOptions) => tags(session, id, options)));
}

async function tags(session: Session, id: string, options: TagsOptions): Promise<number> {
  const problem = idProblem(id);
  if (problem) throw new DcfError(problem, ExitCode.Usage);
  const namespace = session.options.namespace;
  const factory = await findFactory(session.aws, namespace, undefined, session.options);
  const ecr = await session.aws.ecr();
  const kinds: ArtifactKind[] = options.kind ? [options.kind] : ['image', 'feature'];
  for (const kind of kinds) {
    const repository = repositoryName(namespace, kind, id);
    const images = await taggedImages(ecr, repository);
    if (!images) continue;
    const { out } = session;
    if (out.json) {
      out.data({ kind, id, repository, uri: `${factory.registry}/${repository}`, images });
      return ExitCode.Ok;
    }
    out.print(`${kind} ${out.style.bold(id)}: ${factory.registry}/${repository}`);
    if (images.length === 0) {
      out.print('  no tagged images yet: the pipeline has not released anything (dcf status ' + id + ')');
      return ExitCode.Ok;
    }
    const rows = [['DIGEST', 'PUSHED', 'TAGS'], ...images.map((i) => [i.digest, i.pushedAt?.slice(0, 19).replace('T', ' ') ?? '-', i.tags.join(' ')])];
    table(rows).forEach((line, i) => out.print(i === 0 ? `  ${out.style.bold(line)}` : `  ${line}`));
    return ExitCode.Ok;
  }
  throw new DcfError(
    `no ${options.kind ?? 'image or feature'} '${id}' in namespace '${namespace}' (looked for ${kinds.map((k) => repositoryName(namespace, k, id)).join(', ')}): ` +
      `check the id and --namespace, or push it first (dcf push <dir>)`,
    ExitCode.Aws,
  );
}
