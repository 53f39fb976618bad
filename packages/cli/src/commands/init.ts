/** `dcf init image|feature <dir>`: writes a starting point that validates as it is. */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Argument, Command } from 'commander';
import { idProblem, type ArtifactKind } from '@devcontainer-factory/lambdas';
import { DcfError, ExitCode } from '../dcf-error';
import type { App } from '../private/session';
import { templateFiles } from '../private/templates';

interface InitOptions {
  readonly id?: string;
  readonly force?: boolean;
}

export function initCommand(app: App): Command {
  return new Command('init')
    .summary('write a new image or feature configuration to start from')
    .description(
      'Write a new image configuration (.devcontainer/devcontainer.json, test-project/test.sh) or feature ' +
        '(devcontainer-feature.json, install.sh, test/test.sh) that validates and builds as it is.',
    )
    .addArgument(new Argument('<kind>', 'what to create').choices(['image', 'feature']))
    .argument('<dir>', 'folder to create; its name is the id unless --id is given')
    .option('--id <id>', 'id of the image or feature (default: the folder name)')
    .option('--force', 'write into a folder that is not empty, replacing files of the same name')
    .addHelpText('after', '\nExamples:\n  $ dcf init image ./python\n  $ dcf init feature ./features/hello\n  $ dcf init feature ./hello-feature --id hello\n')
    .action(
      app.action(async (session, kind: ArtifactKind, dir: string, options: InitOptions) => {
        const target = session.path(dir);
        const id = options.id ?? basename(target);
        const problem = idProblem(id, `${kind} id`);
        if (problem) {
          throw new DcfError(options.id ? `${problem}; pass a valid --id` : `${problem} (taken from the folder name): choose another folder name or pass --id`, ExitCode.Usage);
        }
        if (existsSync(target)) {
          if (!statSync(target).isDirectory()) throw new DcfError(`'${dir}' is a file: pass a folder to create`, ExitCode.Usage);
          if (readdirSync(target).length > 0 && !options.force) {
            throw new DcfError(`'${dir}' is not empty: pass an empty or new folder, or --force to write into it`, ExitCode.Usage);
          }
        }
        const files = templateFiles(kind, id);
        for (const file of files) {
          const path = join(target, file.path);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, file.text);
          chmodSync(path, file.executable ? 0o755 : 0o644);
        }

        const { out } = session;
        if (out.json) {
          out.data({ kind, id, dir: target, files: files.map((f) => f.path) });
          return ExitCode.Ok;
        }
        out.print(`${out.style.green('✔')} created ${kind} ${out.style.bold(id)} in ${dir}`);
        for (const f of files) out.print(`  ${f.path}`);
        out.print('');
        out.print('Next: edit it, then');
        out.print(`  dcf validate ${dir}`);
        out.print(`  dcf push ${dir} --wait`);
        return ExitCode.Ok;
      }),
    );
}
