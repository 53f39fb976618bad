/** `dcf init image|feature|catalog <dir>`: writes a starting point that validates (and, for a catalogue, builds) as it is. */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Argument, Command } from 'commander';
import { idProblem, validateImageFiles, type ArtifactKind } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import type { App } from '../private/session';
import { DEFAULT_IMAGE_BASE, catalogTemplateFiles, imageBase, templateFiles, type ImageBase } from '../private/templates';

interface InitOptions {
  readonly id?: string;
  readonly base?: string;
  readonly force?: boolean;
}

/** The image `dcf init catalog` writes beside base, unless --id names it. */
const CATALOG_IMAGE = 'starter';

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
        'a base image of its own (dcf local is offline and cannot pull it).\n\n' +
        'A catalogue (catalog.yaml, images/base on busybox and images/<id> on it) builds on its own anywhere: ' +
        'dcf local run <dir>/catalog.yaml builds, tests and releases it offline, and nx deploy factory -c catalog=<dir>/catalog.yaml deploys it.',
    )
    .addArgument(new Argument('<kind>', 'what to create').choices(['image', 'feature', 'catalog']))
    .argument('<dir>', 'folder to create; for an image or feature its name is the id unless --id is given')
    .option('--id <id>', `id of the image or feature (default: the folder name); for a catalogue, of its image beside base (default: ${CATALOG_IMAGE})`)
    .option('--base <ref-or-id>', `image: the factory image (id) or image reference to build on (default: ${DEFAULT_IMAGE_BASE})`)
    .option('--force', 'write into a folder that is not empty, replacing files of the same name')
    .addHelpText(
      'after',
      '\nExamples:\n  $ dcf init catalog ./my-factory && dcf local run ./my-factory/catalog.yaml\n  $ dcf init image ./python\n  $ dcf init image ./python --base tools\n  $ dcf init image ./python --base mcr.microsoft.com/devcontainers/base:bookworm\n  $ dcf init feature ./features/hello\n  $ dcf init feature ./hello-feature --id hello\n',
    )
    .action(
      app.action(async (session, kind: ArtifactKind | 'catalog', dir: string, options: InitOptions) => {
        const target = session.path(dir);
        const id = options.id ?? (kind === 'catalog' ? CATALOG_IMAGE : basename(target));
        const problem = idProblem(id, `${kind === 'catalog' ? 'image' : kind} id`);
        if (problem) {
          throw new DcfError(
            options.id ? `${problem}; pass a valid --id` : `${problem} (taken from the folder name): choose another folder name or pass --id`,
            ExitCode.Usage,
          );
        }
        if (options.base !== undefined && kind !== 'image')
          throw new DcfError(
            kind === 'catalog' ? "--base is for images: a catalogue's images build on its own base image" : '--base is for images: a feature has no base image',
            ExitCode.Usage,
          );
        if (kind === 'catalog' && id === 'base')
          throw new DcfError("--id 'base' is the catalogue's base image: pass another id for the image on it", ExitCode.Usage);
        const base = kind === 'image' ? baseOption(options.base) : undefined;
        if (existsSync(target)) {
          if (!statSync(target).isDirectory()) throw new DcfError(`'${dir}' is a file: pass a folder to create`, ExitCode.Usage);
          if (readdirSync(target).length > 0 && !options.force) {
            throw new DcfError(`'${dir}' is not empty: pass an empty or new folder, or --force to write into it`, ExitCode.Usage);
          }
        }
        const files = kind === 'catalog' ? catalogTemplateFiles(id) : templateFiles(kind, id, base);
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
        if (kind === 'catalog') {
          out.print(`${out.style.green('✔')} created a catalogue in ${dir}: the images base and ${out.style.bold(id)} (on base)`);
          for (const f of files) out.print(`  ${f.path}`);
          out.print('');
          out.print('Next: build, test and release it on this machine, offline, then deploy it');
          out.print(`  dcf local run ${join(dir, 'catalog.yaml')}`);
          out.print(`  nx deploy factory -c catalog=${join(dir, 'catalog.yaml')}`);
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
