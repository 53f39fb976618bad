import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { UnsafeArchiveError, collectFiles, readZip, writeZip, type ArchiveContent } from '../../src/archive';

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const content = (entries: Record<string, string>, executables: string[] = []): ArchiveContent => ({
  files: new Map(Object.entries(entries).map(([k, v]) => [k, bytes(v)])),
  executables: new Set(executables),
});
/** A zip made without any safety rules, as an attacker would. */
const rawZip = (entries: Zippable) => zipSync(entries);
const unixAttrs = (mode: number) => ({ os: 3, attrs: (mode << 16) >>> 0 });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsafeArchiveError);
    return (e as UnsafeArchiveError).problems.map((p) => `${p.file}: ${p.message}`);
  }
  throw new Error('expected an UnsafeArchiveError');
}

describe('writeZip', () => {
  test('gives the same bytes whatever the order, times and umask of the files on disk', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dcf-zip-'));
    try {
      const files = { 'b.txt': 'b', 'a/z.sh': '#!/bin/sh\n', 'a/y.json': '{}' };
      const make = (name: string, order: string[], time: number, umask: number) => {
        for (const rel of order) {
          const file = join(root, name, rel);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, files[rel as keyof typeof files]);
          chmodSync(file, (rel.endsWith('.sh') ? 0o777 : 0o666) & ~umask);
          utimesSync(file, time, time);
        }
      };
      make('one', ['b.txt', 'a/z.sh', 'a/y.json'], 1_000_000, 0o022);
      make('two', ['a/y.json', 'a/z.sh', 'b.txt'], 2_000_000_000, 0o077);

      const one = writeZip(await collectFiles(join(root, 'one')));
      const two = writeZip(await collectFiles(join(root, 'two')));

      expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('dates every entry 1980-01-01 00:00 and stores 0644 / 0755 Unix modes', () => {
    const zip = writeZip(content({ 'install.sh': 'x', 'README.md': 'y' }, ['install.sh']));
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);

    const central: { time: number; mode: number; name: string }[] = [];
    for (let p = 0; p + 4 <= zip.length; p++) {
      if (view.getUint32(p, true) !== 0x02014b50) continue;
      const nameLength = view.getUint16(p + 28, true);
      central.push({
        time: view.getUint32(p + 12, true),
        mode: view.getUint32(p + 38, true) >>> 16,
        name: Buffer.from(zip.subarray(p + 46, p + 46 + nameLength)).toString(),
      });
    }
    expect(central).toEqual([
      { name: 'README.md', time: 0x00210000, mode: 0o100644 },
      { name: 'install.sh', time: 0x00210000, mode: 0o100755 },
    ]);
  });

  test('is read by unzip with the executable bit intact', () => {
    const root = mkdtempSync(join(tmpdir(), 'dcf-unzip-'));
    try {
      writeFileSync(join(root, 'c.zip'), writeZip(content({ 'test/test.sh': 'echo ok\n', 'a.txt': 'a' }, ['test/test.sh'])));
      execFileSync('unzip', ['-q', 'c.zip', '-d', 'out'], { cwd: root });
      expect(readFileSync(join(root, 'out/test/test.sh'), 'utf8')).toBe('echo ok\n');
      expect(
        execFileSync('stat', ['-c', '%a', join(root, 'out/test/test.sh')])
          .toString()
          .trim(),
      ).toBe('755');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('refuses unsafe paths', () => {
    expect(problemsOf(() => writeZip(content({ '../x': 'x', '/abs': 'y' })))).toEqual([
      "../x: the path contains '..': it would leave the root of the configuration",
      '/abs: the path is absolute: paths must be relative to the root of the configuration',
    ]);
  });
});

describe('readZip', () => {
  test('round-trips what writeZip wrote, executables included', () => {
    const original = content({ 'devcontainer-feature.json': '{"id":"x"}', 'install.sh': '#!/bin/sh', 'test/test.sh': 'true' }, ['install.sh', 'test/test.sh']);

    const read = readZip(writeZip(original));

    expect([...read.files.entries()].map(([k, v]) => [k, Buffer.from(v).toString()])).toEqual([
      ['devcontainer-feature.json', '{"id":"x"}'],
      ['install.sh', '#!/bin/sh'],
      ['test/test.sh', 'true'],
    ]);
    expect([...read.executables].sort()).toEqual(['install.sh', 'test/test.sh']);
  });

  test('reads zips made by the zip tool, skipping folder entries', () => {
    const root = mkdtempSync(join(tmpdir(), 'dcf-zipcli-'));
    try {
      mkdirSync(join(root, 'src/.devcontainer'), { recursive: true });
      writeFileSync(join(root, 'src/.devcontainer/devcontainer.json'), '{ "image": "x" }');
      execFileSync('zip', ['-qr', '../c.zip', '.'], { cwd: join(root, 'src') });

      const read = readZip(readFileSync(join(root, 'c.zip')));

      expect([...read.files.keys()]).toEqual(['.devcontainer/devcontainer.json']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test.each([
    [
      'a parent path (zip-slip)',
      { '../../etc/cron.d/x': bytes('x') },
      "../../etc/cron.d/x: unsafe entry: the path contains '..': it would leave the root of the configuration",
    ],
    ['a nested parent path', { 'a/../../x': bytes('x') }, "a/../../x: unsafe entry: the path contains '..': it would leave the root of the configuration"],
    [
      'an absolute path',
      { '/etc/passwd': bytes('x') },
      '/etc/passwd: unsafe entry: the path is absolute: paths must be relative to the root of the configuration',
    ],
    [
      'a Windows path',
      { 'C:\\x': bytes('x') },
      "C:\\x: unsafe entry: the path contains a backslash: use '/' between folders and rename files whose names contain '\\'",
    ],
    [
      'a symlink entry',
      { link: [bytes('/etc/passwd'), unixAttrs(0o120777)] },
      'link: is a symlink: zip only regular files (replace the link with a copy of what it points to)',
    ],
    ['a device entry', { dev: [bytes(''), unixAttrs(0o020644)] }, 'dev: is a special file (not a regular file): remove it from the zip'],
  ] as [string, Zippable, string][])('refuses %s', (_name, entries, message) => {
    expect(problemsOf(() => readZip(rawZip(entries)))).toEqual([message]);
  });

  test('refuses duplicate entries', () => {
    const zip = rawZip({ 'a.txt': bytes('1'), 'b.txt': bytes('2') });
    const patched = Buffer.from(
      Buffer.from(zip)
        .toString('latin1')
        .replace(/b\.txt/g, 'a.txt'),
      'latin1',
    );

    expect(problemsOf(() => readZip(patched))).toEqual(['a.txt: appears more than once in the zip: keep one entry per path']);
  });

  test('refuses a zip that expands past the limit before inflating it', () => {
    const zip = rawZip({ 'zeros.bin': new Uint8Array(4096) });

    expect(problemsOf(() => readZip(zip, { maxSize: 1024 }))).toEqual(['.: the zip expands to 4.0 KiB, over the limit of 1.0 KiB: leave large files out']);
  });

  test('refuses corrupt data and bytes that are not a zip', () => {
    const zip = Buffer.from(rawZip({ 'a.txt': [bytes('hello hello hello'), { level: 0 }] }));
    zip[zip.indexOf('hello')] = 'j'.charCodeAt(0);

    expect(problemsOf(() => readZip(zip))).toEqual(['a.txt: is corrupt (its size or CRC does not match the zip directory): pack the configuration again']);
    expect(problemsOf(() => readZip(bytes('not a zip at all, just some text')))).toEqual(['.: not a readable zip: no end-of-central-directory record']);
  });
});
