/** `dcf init image|feature <dir>`: writes a starting point that validates as it is. */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Argument, Command } from 'commander';
import { idProblem, validateImageFiles, type ArtifactKind } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import type { App } from '../private/session';
import { DEFAULT_IMAGE_BASE, imageBase, templateFiles, type ImageBase } from '../private/templates';

interface InitOptions {
  readonly id?: string;
  readonly base?: string;
  readonly force?: boolean;
}

const PORTABLE_BASE = '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/<id>:latest';

/** `--base` as it will be written; a usage error when it is neither an id nor an image reference. */
function baseOption(base: string | undefined): ImageBase {
  const resolved = imageBase(base ?? DEFAULT_IMAGE_BASE);
  const problems = validateImageFiles(new Map([['.devcontainer.json', new TextEncoder().encode(JSON.stringify({ image: resolved.image }))]]));
  if (problems.length > 0) {
    throw new DcfError(
      `--base '${base}' is neither the id of one of the factory's images (such as 'base') nor an image reference (such as 'mcr.microsoft.com/devcontainers/base:bookworm')`,
      ExitCode.Usage,
    );
  }
  return resolved;
}

export function initCommand(app: App): Command {
  return new Command('init')
    .summary('write a new image or feature configuration to start from')
    .description(
      'Write a new image configuration (.devcontainer/devcontainer.json, test-project/test.sh) or feature ' +
        '(devcontainer-feature.json, install.sh, test/test.sh) that validates and builds as it is.\n\n' +
        `An image is built on this factory's own image --base (default: ${DEFAULT_IMAGE_BASE}), written as ${PORTABLE_BASE}: ` +
        'the factory sets DCF_REGISTRY and DCF_NAMESPACE wherever it builds (localhost:PORT in dcf local, its ECR registry ' +
        'in the cloud), so it builds in both; give the image dependsOn: [<id>] in the catalogue. A full image reference ' +
        'as --base is written as it is: pass e.g. mcr.microsoft.com/devcontainers/base:bookworm for a cloud factory without ' +
        'a base image of its own (dcf local is offline and cannot pull it).',
    )
    .addArgument(new Argument('<kind>', 'what to create').choices(['image', 'feature']))
    .argument('<dir>', 'folder to create; its name is the id unless --id is given')
    .option('--id <id>', 'id of the image or feature (default: the folder name)')
    .option('--base <ref-or-id>', `image: the factory image (id) or image reference to build on (default: ${DEFAULT_IMAGE_BASE})`)
    .option('--force', 'write into a folder that is not empty, replacing files of the same name')
    .addHelpText(
      'after',
      '\nExamples:\n  $ dcf init image ./python\n  $ dcf init image ./python --base tools\n  $ dcf init image ./python --base mcr.microsoft.com/devcontainers/base:bookworm\n  $ dcf init feature ./features/hello\n  $ dcf init feature ./hello-feature --id hello\n',
    )
    .action(
      app.action(async (session, kind: ArtifactKind, dir: string, options: InitOptions) => {
        const target = session.path(dir);
        const id = options.id ?? basename(target);
        const problem = idProblem(id, `${kind} id`);
        if (problem) {
          throw new DcfError(
            options.id ? `${problem}; pass a valid --id` : `${problem} (taken from the folder name): choose another folder name or pass --id`,
            ExitCode.Usage,
          );
        }
        if (options.base !== undefined && kind !== 'image') throw new DcfError('--base is for images: a feature has no base image', ExitCode.Usage);
        const base = kind === 'image' ? baseOption(options.base) : undefined;
        if (existsSync(target)) {
          if (!statSync(target).isDirectory()) throw new DcfError(`'${dir}' is a file: pass a folder to create`, ExitCode.Usage);
          if (readdirSync(target).length > 0 && !options.force) {
            throw new DcfError(`'${dir}' is not empty: pass an empty or new folder, or --force to write into it`, ExitCode.Usage);
          }
        }
        const files = templateFiles(kind, id, base);
        for (const file of files) {
          const path = join(target, file.path);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, file.text);
          chmodSync(path, file.executable ? 0o755 : 0o644);
        }

        const { out } = session;
        if (out.json) {
          out.data({ kind, id, dir: target, files: files.map((f) => f.path), ...(base && { base: base.image }) });
          return ExitCode.Ok;
        }
        out.print(`${out.style.green('✔')} created ${kind} ${out.style.bold(id)} in ${dir}`);
        for (const f of files) out.print(`  ${f.path}`);
        if (base) out.print(`  on ${base.image}`);
        out.print('');
        if (base?.factoryImage)
          out.print(
            `Add it to the catalogue with dependsOn: [${base.factoryImage}] (it is built after ${base.factoryImage}, and again when ${base.factoryImage} moves).`,
          );
        out.print('Next: edit it, then');
        out.print(`  dcf validate ${dir}`);
        out.print(`  dcf push ${dir} --wait`);
        return ExitCode.Ok;
      }),
    );
}
