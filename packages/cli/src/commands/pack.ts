/** `dcf pack <dir> [-o out.zip]`: the deterministic zip that `dcf push` uploads. */
import { createHash } from 'node:crypto';
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { Command } from 'commander';
import { formatSize, writeZip, type ArtifactKind } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
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
        const shownTarget = options.output ?? `${config.id}.zip`;
        const target = session.path(shownTarget);
        checkTarget(target, shownTarget);
        const zip = writeZip(config.content);
        const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
        try {
          writeFileSync(temporary, zip, { flag: 'wx' });
          renameSync(temporary, target);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? String(e);
          throw new DcfError(`cannot write '${shownTarget}' (${code}): check that its folder is writable and has space, or pass another -o`, ExitCode.Aws, {
            cause: e,
          });
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
          out.print(
            `${out.style.green('✔')} wrote ${options.output ?? `${config.id}.zip`} (${config.kind} ${config.id}, ${config.content.files.size} files, ${formatSize(zip.length)}, sha256 ${sha256.slice(0, 12)})`,
          );
        }
        return ExitCode.Ok;
      }),
    );
}

/** Refuses an output path whose folder is missing, or that names a folder or another non-file. */
function checkTarget(target: string, shown: string): void {
  const parent = statSync(dirname(target), { throwIfNoEntry: false });
  if (!parent) throw new DcfError(`the folder of '${shown}' does not exist: create it (mkdir -p ${dirname(shown)}) or pass another -o`, ExitCode.Usage);
  if (!parent.isDirectory()) throw new DcfError(`'${dirname(shown)}' is not a folder: pass an -o inside a folder`, ExitCode.Usage);
  const existing = statSync(target, { throwIfNoEntry: false });
  if (existing?.isDirectory())
    throw new DcfError(
      `'${shown}' is a folder: pass the path of the zip to write, e.g. -o ${posix.join(shown.split(sep).join('/'), 'out.zip')}`,
      ExitCode.Usage,
    );
  if (existing && !existing.isFile()) throw new DcfError(`'${shown}' exists and is not a regular file: pass another -o`, ExitCode.Usage);
}
