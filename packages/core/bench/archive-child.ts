/**
 * One hostile archive: `craft <case> <file>` writes it, `read <case> <file>`
 * reads it with the production reader and prints one JSON line: what happened
 * and the memory it took. Crafting and reading are separate processes, so the
 * figures are the reader's alone (with the input in memory, as in the Lambda).
 * Run by `archive-memory.mjs` (and its jest test) under
 * `node --max-old-space-size=512`, after esbuild bundles this file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { UnsafeArchiveError } from '../src/archive/archive-content';
import { readImageSource } from '../src/image/image-source';
import { featureContentFromTar } from '../src/feature/feature-content';
import { craftZip, deflateBomb, gzipBomb, type CraftedEntry } from '@devcontainer-factory/testing';

const MiB = 1024 * 1024;
const config: CraftedEntry = { name: '.devcontainer/devcontainer.json', data: '{ "image": "debian:12" }', mode: 0o100644 };

/** The bombs, each built here (the input is in memory, as in the Lambda) and read once. */
export const CASES: Record<string, { readonly what: string; readonly input: () => Uint8Array; readonly read: (input: Uint8Array) => unknown }> = {
  'zip-deflate-bomb': {
    what: 'zip, devcontainer.json inflating to 4 GiB, declaring 50 MiB',
    input: () => {
      const bomb = deflateBomb(4 * 1024 * MiB - 1);
      return craftZip([{ ...config, compressed: bomb.compressed, size: 50 * MiB, crc: 0 }]);
    },
    read: (zip) => readImageSource(zip),
  },
  'zip-many-entries': {
    what: 'zip, 500,000 entries without ZIP64 (count wraps to 41,248)',
    input: () => {
      const entries: CraftedEntry[] = [config];
      for (let i = 1; i < 500_000; i++) entries.push({ name: `f/${i}`, data: '', method: 0 });
      return craftZip(entries);
    },
    read: (zip) => readImageSource(zip),
  },
  'zip-overlapping-entries': {
    what: 'zip, 9,998 central entries sharing the local entry of one 1 GiB deflate bomb',
    input: () => {
      const bomb = deflateBomb(1024 * MiB);
      const entries: CraftedEntry[] = [{ name: 'f/0', compressed: bomb.compressed, size: 4096, crc: 0 }, config];
      for (let i = 1; i < 9_999; i++) entries.push({ name: `f/${i}`, compressed: bomb.compressed, size: 4096, crc: 0, sharesLocalOf: 0 });
      return craftZip(entries);
    },
    read: (zip) => readImageSource(zip),
  },
  'zip-largest-accepted': {
    what: 'zip, 10,000 honest files of 5 KiB (50 MiB, the limits): read',
    input: () => {
      const entries: CraftedEntry[] = [config];
      const data = 'devcontainer '.repeat(400);
      for (let i = 1; i < 10_000; i++) entries.push({ name: `f/${i}`, data: data.slice(0, 5000), mode: 0o100644 });
      return craftZip(entries);
    },
    read: (zip) => readImageSource(zip),
  },
  'tgz-gzip-bomb': {
    what: 'feature .tgz, gzip inflating to 4 GiB',
    input: () => gzipBomb(4 * 1024 * MiB - 1),
    read: (tgz) => featureContentFromTar(tgz),
  },
  'json-deep': {
    what: 'zip, devcontainer.json nested 100,000 deep',
    input: () => craftZip([{ ...config, data: `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }]),
    read: (zip) => readImageSource(zip),
  },
};

const [step, name, file] = process.argv.slice(2);
const found = CASES[name];
if (!found || !file || (step !== 'craft' && step !== 'read')) {
  console.error(`usage: archive-child craft|read <case> <file>; cases: ${Object.keys(CASES).join(', ')}`);
  process.exitCode = 2;
} else if (step === 'craft') {
  writeFileSync(file, found.input());
} else {
  const input: Uint8Array = readFileSync(file);
  const before = process.memoryUsage();
  let outcome: 'read' | 'refused' | 'error';
  let message = '';
  const started = Date.now();
  try {
    found.read(input);
    outcome = 'read';
  } catch (e) {
    outcome = e instanceof UnsafeArchiveError || (e as Error).name === 'FeatureArtifactError' || (e as Error).name === 'InvalidConfigurationError' ? 'refused' : 'error';
    message = (e as Error).message.split('\n').slice(0, 2).join(' ').slice(0, 240);
  }
  const after = process.memoryUsage();
  console.log(
    JSON.stringify({
      case: name,
      what: found.what,
      inputMiB: +(input.length / MiB).toFixed(1),
      outcome,
      message,
      ms: Date.now() - started,
      baselineRssMiB: +(before.rss / MiB).toFixed(1),
      peakRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
      heapUsedMiB: +(after.heapUsed / MiB).toFixed(1),
      externalMiB: +(after.external / MiB).toFixed(1),
    }),
  );
}
