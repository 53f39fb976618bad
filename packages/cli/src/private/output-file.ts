/** Writing a file a command was asked for (`--output`): checked first, then put in place atomically. */
import { linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DcfError, ExitCode } from '../dcf-error';

/**
 * Refuses an output file whose folder is missing, that names a folder, or that exists
 * (unless `force`).
 * @param example a file name to suggest inside a folder, e.g. `sbom.cdx.json`
 */
export function checkTarget(target: string, shown: string, force: boolean, example: string): string {
  const parent = statSync(dirname(target), { throwIfNoEntry: false });
  if (!parent) throw new DcfError(`the folder of '${shown}' does not exist: create it (mkdir -p ${dirname(shown)}) or pass another --output`, ExitCode.Usage);
  if (!parent.isDirectory()) throw new DcfError(`'${dirname(shown)}' is not a folder: pass an --output inside a folder`, ExitCode.Usage);
  const existing = statSync(target, { throwIfNoEntry: false });
  if (existing?.isDirectory())
    throw new DcfError(`'${shown}' is a folder: pass the path of the file to write, e.g. --output ${join(shown, example)}`, ExitCode.Usage);
  if (existing && !existing.isFile()) throw new DcfError(`'${shown}' exists and is not a regular file: pass another --output`, ExitCode.Usage);
  if (existing && !force) throw new DcfError(`'${shown}' exists: pass --force to overwrite it, or another --output`, ExitCode.Usage);
  return target;
}

/**
 * Writes `bytes` to a temp file beside `target`, then moves it into place: a rename
 * with `force`; otherwise a hard link, which fails when the target appeared meanwhile.
 */
export function writeAtomically(target: string, shown: string, bytes: Uint8Array, force: boolean): void {
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let placing = false;
  try {
    writeFileSync(temporary, bytes, { flag: 'wx' });
    placing = true;
    if (force) renameSync(temporary, target);
    else linkSync(temporary, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    if (placing && code === 'EEXIST' && !force)
      throw new DcfError(`'${shown}' exists: pass --force to overwrite it, or another --output`, ExitCode.Usage, { cause: e });
    throw new DcfError(`cannot write '${shown}' (${code}): check that its folder is writable and has space, or pass another --output`, ExitCode.Aws, {
      cause: e,
    });
  } finally {
    rmSync(temporary, { force: true });
  }
}
