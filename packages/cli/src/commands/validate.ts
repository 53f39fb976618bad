/** `dcf validate <dir>`: every problem of an image or feature configuration, with file, line and what to change. */
import { Command } from 'commander';
import { formatSize, type ArtifactKind } from '@devcontainer-factory/core';
import { ExitCode } from '../dcf-error';
import { loadConfiguration, reportProblems } from '../private/configuration';
import { idOption, kindOption, maxSizeOption } from '../private/options';
import type { App } from '../private/session';

interface ValidateOptions {
  readonly kind?: ArtifactKind;
  readonly id?: string;
  readonly maxSize?: number;
}

export function validateCommand(app: App): Command {
  return new Command('validate')
    .summary('check an image or feature configuration')
    .description(
      'Check an image configuration (devcontainer.json as JSONC, an image source that exists, well-formed feature references, a semantic version) ' +
        'or a feature (the rules of the feature pipeline). Every problem is listed with its file and line; the exit code is 1 when there is any.',
    )
    .argument('<dir>', 'folder that holds the configuration')
    .addOption(kindOption())
    .addOption(idOption())
    .addOption(maxSizeOption())
    .addHelpText('after', '\nExamples:\n  $ dcf validate ./python\n  $ dcf validate ./features/hello --json\n')
    .action(
      app.action(async (session, dir: string, options: ValidateOptions) => {
        const config = await loadConfiguration(session.path(dir), dir, options);
        const { out } = session;
        if (config.problems.length > 0) return reportProblems(out, config, '', 'stdout');
        if (out.json) {
          out.data({ kind: config.kind, id: config.id, valid: true, files: config.content.files.size, size: config.size, problems: [] });
        } else {
          out.print(`${out.style.green('✔')} ${config.kind} ${out.style.bold(config.id)} is valid (${config.content.files.size} files, ${formatSize(config.size)})`);
        }
        return ExitCode.Ok;
      }),
    );
}
