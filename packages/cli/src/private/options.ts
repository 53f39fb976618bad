/** Options that several commands share, with their parsers. */
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_CONFIGURATION_SIZE, formatSize } from '@devcontainer-factory/core';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** The largest `--max-size`: the zip is built in memory, and Node reads no file over 2 GiB. */
export const MAX_SIZE_LIMIT = 1024 ** 3;

/** `50MiB`, `10m`, `2048` → bytes (K, M and G are binary). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0)
    throw new InvalidArgumentError(`'${text}' is not a size: use a number of bytes or a size such as 50MiB, 500KiB or 1GiB`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes > MAX_SIZE_LIMIT)
    throw new InvalidArgumentError(
      `'${text}' is over ${formatSize(MAX_SIZE_LIMIT)}, the most dcf can pack (the zip is built in memory): leave large files out (add them to .gitignore)`,
    );
  return bytes;
}

/** A positive number of minutes. */
export function parseMinutes(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${text}' is not a number of minutes: use e.g. 30`);
  return n;
}

export const kindOption = () =>
  new Option('--kind <kind>', 'image or feature (default: feature when the folder has devcontainer-feature.json at its root)').choices(['image', 'feature']);
export const idOption = () => new Option('--id <id>', 'id to validate and upload as (default: the folder name)');
export const maxSizeOption = () =>
  new Option('--max-size <size>', `largest total size of the files (default: ${formatSize(DEFAULT_MAX_CONFIGURATION_SIZE)})`).argParser(parseSize);
