import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MAX_ARCHIVE_NAME_BYTES, MAX_ARCHIVE_PATH_BYTES, UnsafeArchiveError, collectFiles, readZip, writeZip } from '../../src/archive';
import { readImageSource } from '../../src/image/image-source';
import { FeatureArtifactError, featureContentFromTar } from '../../src/feature/feature-content';
import { craftTar, paxRecord, type CraftedTarEntry } from '../support/crafted-tar';
import { craftZip, type CraftedEntry } from '@devcontainer-factory/testing';
import { refusal } from '../support/archive-refusal';

// Entry names that are one file on some file system (NFC and NFD spellings on macOS, case on
// macOS and Windows, a file that is also a folder anywhere), or too long to extract
// (ENAMETOOLONG), are refused wherever entries are read, packed or written.

const CONFIG = '.devcontainer/devcontainer.json';
const config: CraftedEntry = { name: CONFIG, data: '{ "image": "debian:12" }', mode: 0o100644 };
const file = (name: string, data = 'x'): CraftedEntry => ({ name, data, mode: 0o100644 });

const NFC = 'caf\u00e9.md';
const NFD = 'cafe\u0301.md';

const nfcMessage = (a: string, b: string, spellings: string) =>
  `${a}: clashes with ${b}: the two are one name written in two Unicode forms (${spellings}), ` +
  'and macOS file systems (APFS, HFS+) store them as one file, so one would overwrite the other; rename one, or write both in one form (NFC)';
const caseMessage = (a: string, b: string) =>
  `${a}: clashes with ${b}: the names differ only in case, and case-insensitive file systems (macOS, and Windows by default) ` +
  'store them as one file, so one would overwrite the other where the configuration is checked out or unpacked; rename one of them';

/** `n` bytes of path: folders of 99 `d`s, then a file name to make up the rest. */
function longPath(n: number): string {
  const segments: string[] = [];
  let length = 0;
  while (n - length > 100 + 1) {
    segments.push('d'.repeat(99));
    length += 100;
  }
  segments.push('f'.repeat(n - length));
  return segments.join('/');
}

describe('readZip (and so Prepare) refuses names that are one file somewhere, or too long', () => {
  test('the limits are 255 bytes per name and 1024 per path', () => {
    expect([MAX_ARCHIVE_NAME_BYTES, MAX_ARCHIVE_PATH_BYTES]).toEqual([255, 1024]);
    expect(Buffer.byteLength(longPath(1500))).toBe(1500);
  });

  test.each<[string, () => Uint8Array, string]>([
    ['café.md in NFC and in NFD', () => craftZip([config, file(NFC), file(NFD)]), nfcMessage(NFD, NFC, 'cafe\\u{301}.md and caf\\u{E9}.md')],
    [
      'a folder in NFC and in NFD',
      () => craftZip([config, file(`docs/${NFC}/a`), file(`docs/${NFD}/b`)]),
      nfcMessage(`docs/${NFD}`, `docs/${NFC}`, `docs/cafe\\u{301}.md and docs/caf\\u{E9}.md`),
    ],
    ['README.md and readme.md', () => craftZip([config, file('README.md'), file('readme.md')]), caseMessage('README.md', 'readme.md')],
    ['folders that differ in case, each with its own file', () => craftZip([config, file('Docs/a.md'), file('docs/b.md')]), caseMessage('Docs', 'docs')],
    [
      'a file and a folder that differ in case, with a name sorted between them',
      () => craftZip([config, file('LICENSE'), file('license-notes'), file('license/x')]),
      caseMessage('LICENSE', 'license'),
    ],
    [
      'a 4,000-byte name',
      () => craftZip([config, file('a'.repeat(4000))]),
      `${'a'.repeat(80)}…${'a'.repeat(19)} (4000 bytes): unsafe entry: the path is 4000 bytes long, over the limit of 1024 bytes (MAX_ARCHIVE_PATH_BYTES): the build extracts it under folders of its own, where a longer path fails (ENAMETOOLONG); use fewer or shorter folder names`,
    ],
    [
      'a 256-byte name in a short path',
      () => craftZip([config, file(`docs/${'n'.repeat(256)}`)]),
      `docs/${'n'.repeat(75)}…${'n'.repeat(19)} (261 bytes): unsafe entry: the name '${'n'.repeat(80)}…${'n'.repeat(19)}' is 256 bytes long, over the limit of 255 bytes per file or folder name (MAX_ARCHIVE_NAME_BYTES): file systems cannot create it (ENAMETOOLONG); rename it`,
    ],
    [
      'a 128-character name of 2-byte characters (256 bytes)',
      () => craftZip([config, file('é'.repeat(128))]),
      'is 256 bytes long, over the limit of 255 bytes per file or folder name',
    ],
    [
      'a path of 1,025 bytes in short names',
      () => craftZip([config, file(longPath(1025))]),
      'unsafe entry: the path is 1025 bytes long, over the limit of 1024 bytes (MAX_ARCHIVE_PATH_BYTES)',
    ],
  ])('%s', (_name, zip, message) => {
    expect(refusal(() => readImageSource(zip()))).toContain(message);
  });

  test('names at the limits, one spelling of café, and names that differ by more than case are read', () => {
    const names = ['n'.repeat(255), longPath(1024), NFC, 'README.md', 'README.txt', 'readme-notes.md'];
    const zip = craftZip([config, ...names.map((n) => file(n))]);
    expect([...readZip(zip).files.keys()].sort()).toEqual([CONFIG, ...names].sort());
  });
});

describe('collectFiles (dcf push, dcf pack) refuses such a folder before anything is uploaded', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'dcf-names-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const write = (rel: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), 'x');
  };
  async function problems(): Promise<string> {
    const error = await collectFiles(root).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsafeArchiveError);
    return (error as UnsafeArchiveError).problems.map((p) => `${p.file}: ${p.message}`).join('\n');
  }

  test('GIVEN café.md in NFC and in NFD (two files on Linux, one on macOS) THEN both spellings are named', async () => {
    write(NFC);
    write(NFD);
    expect(await problems()).toBe(nfcMessage(NFD, NFC, 'cafe\\u{301}.md and caf\\u{E9}.md'));
  });

  test('GIVEN README.md and readme.md THEN they are refused for case-insensitive file systems', async () => {
    write('README.md');
    write('readme.md');
    expect(await problems()).toBe(caseMessage('README.md', 'readme.md'));
  });

  test('GIVEN a file deeper than 1024 bytes THEN the first folder past the limit is refused, and not read further', async () => {
    write(longPath(1500));
    expect(await problems()).toMatch(/ \(1099 bytes\): the path is 1099 bytes long, over the limit of 1024 bytes \(MAX_ARCHIVE_PATH_BYTES\)/);
  });
});

describe('writeZip refuses content it could not write safely', () => {
  const content = (...paths: string[]) => ({ files: new Map(paths.map((p) => [p, new Uint8Array()])), executables: new Set<string>() });
  test.each([
    ['NFC and NFD', [NFC, NFD], 'the two are one name written in two Unicode forms'],
    ['case', ['Makefile', 'makefile'], 'the names differ only in case'],
    ['a 300-byte name', ['n'.repeat(300)], 'is 300 bytes long, over the limit of 255 bytes per file or folder name'],
  ])('%s', (_name, paths, message) => {
    expect(() => writeZip(content(...paths))).toThrow(UnsafeArchiveError);
    expect(refusal(() => writeZip(content(...paths)))).toContain(message);
  });
});

describe('featureContentFromTar applies the same rules to feature tarballs', () => {
  const metadata: CraftedTarEntry = { path: './devcontainer-feature.json', data: '{"id":"hello","version":"1.0.0"}' };
  const install: CraftedTarEntry = { path: './install.sh', data: '#!/bin/sh\n', mode: 0o755 };
  function tarRefusal(tar: Uint8Array): string {
    try {
      featureContentFromTar(tar);
    } catch (e) {
      expect(e).toBeInstanceOf(FeatureArtifactError);
      return (e as Error).message;
    }
    throw new Error('expected the tarball to be refused');
  }

  test.each<[string, CraftedTarEntry[], string]>([
    [
      'NFC and NFD',
      [
        { path: `./${NFC}`, data: 'a' },
        { path: `./${NFD}`, data: 'b' },
      ],
      `the feature tarball holds '${NFD}', which clashes with ${NFC}: the two are one name written in two Unicode forms (cafe\\u{301}.md and caf\\u{E9}.md)`,
    ],
    [
      'Install.sh beside install.sh',
      [{ ...install, path: './Install.sh' }],
      "the feature tarball holds 'Install.sh', which clashes with install.sh: the names differ only in case",
    ],
    [
      'a file that is also a folder',
      [{ path: './install.sh/x', data: 'x' }],
      "the feature tarball holds 'install.sh', which is a file, but install.sh/x is inside it as in a folder: rename one of them; package the feature again",
    ],
    [
      'a file that is also a folder entry',
      [{ path: './install.sh/', type: '5' }],
      "the feature tarball holds 'install.sh', which is both a file and a folder in the tarball",
    ],
    [
      'a 300-byte name (pax path)',
      [
        { path: './PaxHeaders/long', type: 'x', data: paxRecord('path', `./${'n'.repeat(300)}`) },
        { path: './placeholder', data: 'x' },
      ],
      'is 300 bytes long, over the limit of 255 bytes per file or folder name (MAX_ARCHIVE_NAME_BYTES)',
    ],
  ])('%s', (_name, extra, message) => {
    expect(tarRefusal(craftTar([metadata, install, ...extra]))).toContain(message);
  });
});
