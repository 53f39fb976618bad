/** `dcf pack <dir> [-o out.zip]`: the deterministic zip that `dcf push` uploads. */
import { createHash } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { Command } from 'commander';
import { formatSize, writeZip, type ArtifactKind } from '@devcontainer-factory/lambdas';
import { ExitCode } from '../dcf-error';
import { loadConfiguration, reportProblems } from '../private/configuration';
import { idOption, kindOption, maxSizeOption } from '../private/options';
import type { App } from '../private/session';

interface PackOptions {
  readonly kind?: ArtifactKind;
  readonly id?: string;
  readonly maxSize?: number;
  readonly output?: string;
}

export function packCommand(app: App): Command {
  return new Command('pack')
    .summary('write the deterministic zip that push uploads')
    .description(
      'Validate a configuration and write it as a deterministic zip: the same content gives the same bytes whatever the file times, order or umask. ' +
        '.gitignored files and .git are left out; symlinks that leave the folder, special files and content over the size limit are refused.',
    )
    .argument('<dir>', 'folder that holds the configuration')
    .option('-o, --output <file>', 'zip to write (default: <id>.zip in the current folder)')
    .addOption(kindOption())
    .addOption(idOption())
    .addOption(maxSizeOption())
    .addHelpText('after', '\nExamples:\n  $ dcf pack ./python\n  $ dcf pack ./python -o /tmp/python.zip\n')
    .action(
      app.action(async (session, dir: string, options: PackOptions) => {
        const config = await loadConfiguration(session.path(dir), dir, options);
        const { out } = session;
        if (config.problems.length > 0) return reportProblems(out, config, 'nothing was written', 'stderr');
        const zip = writeZip(config.content);
        const target = session.path(options.output ?? `${config.id}.zip`);
        const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
        try {
          writeFileSync(temporary, zip);
          renameSync(temporary, target);
        } finally {
          rmSync(temporary, { force: true });
        }
        const sha256 = createHash('sha256').update(zip).digest('hex');
        if (!relative(config.dir, target).startsWith('..')) {
          out.warn(`the zip is inside the folder it packs, so the next pack would include it: write it elsewhere (-o) or add *.zip to ${dir}/.gitignore`);
        }
        if (out.json) {
          out.data({ kind: config.kind, id: config.id, file: target, files: config.content.files.size, bytes: zip.length, sha256 });
        } else {
          out.print(`${out.style.green('✔')} wrote ${options.output ?? `${config.id}.zip`} (${config.kind} ${config.id}, ${config.content.files.size} files, ${formatSize(zip.length)}, sha256 ${sha256.slice(0, 12)})`);
        }
        return ExitCode.Ok;
      }),
    );
}
