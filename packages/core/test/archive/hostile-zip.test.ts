import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { UnsafeArchiveError, collectFiles, readZip, writeZip } from '../../src/archive';
import { readImageSource } from '../../src/image/image-source';
import { craftZip, crcOf, deflateBomb, type CraftedEntry } from '@devcontainer-factory/testing';
import { refusal } from '../support/archive-refusal';

const CONFIG = '.devcontainer/devcontainer.json';
const config: CraftedEntry = { name: CONFIG, data: '{ "image": "debian:12" }', mode: 0o100644 };
const file = (name: string, data = 'x'): CraftedEntry => ({ name, data, mode: 0o100644 });

/** `n` tiny stored entries after the configuration. */
function manyEntries(n: number, extra: CraftedEntry[] = []): CraftedEntry[] {
  const entries: CraftedEntry[] = [config];
  for (let i = 0; i < n; i++) entries.push({ name: `f/${i}`, data: '', method: 0 });
  return [...entries, ...extra];
}

const zeros5MiB = new Uint8Array(5 * 1024 * 1024);
const bomb = deflateBomb(200 * 1024 * 1024);

describe('readImageSource refuses what readZip refuses', () => {
  test.each<[string, () => Uint8Array, RegExp]>([
    ['a parent path (zip-slip)', () => craftZip([config, file('../../escape.txt')]), /\.\.\/\.\.\/escape\.txt: unsafe entry: the path contains '\.\.'/],
    ['an absolute path', () => craftZip([config, file('/etc/cron.d/x')]), /\/etc\/cron\.d\/x: unsafe entry: the path is absolute/],
    ['a backslash path', () => craftZip([config, file('..\\..\\x')]), /unsafe entry: the path contains a backslash/],
    ['a drive-letter path', () => craftZip([config, file('C:/x')]), /C:\/x: unsafe entry: the path starts with a drive letter/],
    ['a ./ prefixed configuration', () => craftZip([{ ...config, name: `./${CONFIG}` }]), /unsafe entry: the path has an empty or '\.' segment/],
    ['a symlink', () => craftZip([config, { name: 'link', data: '/etc/passwd', mode: 0o120777 }]), /link: is a symlink/],
    ['a FIFO', () => craftZip([config, { name: 'fifo', data: '', mode: 0o010644 }]), /fifo: is a special file/],
    ['a device', () => craftZip([config, { name: 'dev', data: '', mode: 0o020644 }]), /dev: is a special file/],
    ['an encrypted entry', () => craftZip([{ ...config, flags: 0x801 }]), /devcontainer\.json: is encrypted/],
    ['an unknown compression method', () => craftZip([{ ...config, method: 14, compressed: new Uint8Array(10) }]), /uses compression method 14/],
    ['a bad CRC', () => craftZip([{ ...config, crc: 1234 }]), /devcontainer\.json: is corrupt \(its size or CRC does not match/],
    ['a bad CRC in an entry Prepare does not need', () => craftZip([config, { ...file('README.md'), crc: 1234 }]), /README\.md: is corrupt/],
    [
      'two devcontainer.json entries (the second would win)',
      () => craftZip([config, { ...config, data: '{ "image": "evil" }' }]),
      /devcontainer\.json: appears more than once in the zip/,
    ],
    [
      'more than 65,535 entries without ZIP64 (the count wraps)',
      () => craftZip(manyEntries(69_999, [file('../../escape.txt')])),
      /the central directory holds more entries than the 4465 its end record counts; zip tools would read it differently/,
    ],
    ['an end record that counts fewer entries', () => craftZip([config, file('a'), file('b')], { count: 2 }), /more entries than the 2 its end record counts/],
    ['an end record that counts more entries', () => craftZip([config], { count: 2 }), /the end record counts 2 entries but the central directory holds 1/],
    [
      'a local name that differs from the central one',
      () => craftZip([config, { ...file('safe.txt'), local: { name: '../evil.txt' } }]),
      /the local header of safe\.txt names another file/,
    ],
    ['local sizes that differ', () => craftZip([{ ...config, local: { size: 3 } }]), /declares other sizes or another CRC than the central directory/],
    ['a local method that differs', () => craftZip([{ ...config, local: { method: 0 } }]), /another compression method than the central directory/],
    ['local flags that differ', () => craftZip([{ ...config, local: { flags: 0 } }]), /other flags/],
    [
      'overlapping entries (one local entry, two central ones)',
      () => craftZip([config, file('a'), { ...file('a'), sharesLocalOf: 1 }]),
      /a overlaps a \(overlapping entries are a zip-bomb technique\)/,
    ],
    [
      'overlapping entries with other names',
      () => craftZip([config, file('a'), { ...file('b'), sharesLocalOf: 1 }]),
      /the local header of b names another file/,
    ],
    [
      'bytes hidden between the entries and the directory',
      () => craftZip([config], { beforeDirectory: new Uint8Array(64) }),
      /64 bytes before the central directory belong to no entry/,
    ],
    ['bytes hidden after an entry', () => craftZip([{ ...config, after: new Uint8Array(30) }, file('b')]), /30 bytes before b belong to no entry/],
    [
      'bytes between the directory and the end record',
      () => craftZip([config], { beforeEnd: new Uint8Array(8) }),
      /8 bytes lie between the central directory and the end record/,
    ],
    ['bytes after the end record', () => craftZip([config], { trailing: new Uint8Array(100) }), /bytes after the end-of-central-directory record/],
    ['a file that is also a folder', () => craftZip([config, file('a'), file('a/b')]), /a: is a file, but a\/b is inside it as in a folder/],
    [
      'a file that is also a folder entry',
      () => craftZip([config, file('a'), { name: 'a/', data: '', method: 0 }]),
      /a: is both a file and a folder in the zip/,
    ],
    ['a ZIP64 extra field', () => craftZip([{ ...config, extra: new Uint8Array([1, 0, 0, 0]) }]), /ZIP64 archives are not supported/],
    [
      'a Unicode path field naming another file',
      () => {
        const other = Buffer.from('../x');
        const field = Buffer.alloc(9 + other.length);
        field.writeUInt16LE(0x7075, 0);
        field.writeUInt16LE(5 + other.length, 2);
        field[4] = 1;
        field.writeUInt32LE(crcOf(Buffer.from('a.txt')), 5);
        other.copy(field, 9);
        return craftZip([config, { ...file('a.txt'), extra: field }]);
      },
      /a\.txt carries a Unicode path field with another name/,
    ],
    [
      'a non-ASCII name without the UTF-8 flag',
      () => craftZip([config, { ...file('café.txt'), flags: 0 }]),
      /café\.txt has a non-ASCII name without the UTF-8 flag/,
    ],
    ['a name that is not UTF-8', () => craftZip([config, { ...file('x'), name: new Uint8Array([0x61, 0xff]) }]), /is not UTF-8/],
    [
      'a deflate bomb, declared honestly',
      () => craftZip([{ ...config, compressed: bomb.compressed, size: bomb.size }]),
      /the zip expands to 200\.\d MiB, over the limit of 50\.0 MiB/,
    ],
    [
      'a deflate bomb that declares a small size',
      () => craftZip([{ ...config, compressed: bomb.compressed, size: 1000, crc: 0 }]),
      /devcontainer\.json: inflates to more than the 1000 B the zip directory declares/,
    ],
    [
      'a bomb in an entry Prepare does not need',
      () => craftZip([config, { ...file('filler.bin'), compressed: bomb.compressed, size: 4096, crc: 0 }]),
      /filler\.bin: inflates to more than the 4\.0 KiB/,
    ],
    [
      'an entry compressed over 200 times',
      () => craftZip([config, { ...file('zeros.bin'), compressed: new Uint8Array(deflateRawSync(zeros5MiB)), size: zeros5MiB.length, crc: 0 }]),
      /zeros\.bin: expands \d+ times .*over the compression ratio limit of 200 \(maxCompressionRatio\)/,
    ],
    ['more entries than the limit', () => craftZip(manyEntries(10_000)), /the zip holds 10001 or more entries, over the limit of 10000 \(maxEntries\)/],
    [
      'a devcontainer.json nested 100,000 deep',
      () => craftZip([{ ...config, data: `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }]),
      /\.devcontainer\/devcontainer\.json: objects and arrays are nested more than 64 levels deep/,
    ],
  ])('%s', (_name, zip, message) => {
    expect(refusal(() => readImageSource(zip()))).toMatch(message);
  });

  test('a whole-zip problem names the source zip and says how to fix it', () => {
    expect(refusal(() => readImageSource(craftZip([config], { trailing: new Uint8Array(4) })))).toMatch(
      /^\(source zip\): is not a readable zip: there are bytes after the end-of-central-directory record; .*dcf pack\)$/,
    );
  });

  test('its limits are options', () => {
    expect(refusal(() => readImageSource(craftZip(manyEntries(5)), { maxEntries: 3 }))).toMatch(/over the limit of 3 \(maxEntries\)/);
    expect(refusal(() => readImageSource(craftZip([config, file('big', 'y'.repeat(2000))]), { maxEntrySize: 1000 }))).toMatch(
      /big: expands to 2\.0 KiB, over the limit of 1000 B per file \(maxEntrySize\)/,
    );
    expect(() => readImageSource(craftZip([config]), { maxEntries: 0 })).toThrow(/maxEntries must be a positive number/);
  });
});

describe('readZip still reads what honest tools write', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcf-hostile-zip-'));
    mkdirSync(join(dir, 'src/.devcontainer'), { recursive: true });
    writeFileSync(join(dir, 'src/.devcontainer/devcontainer.json'), '{ "image": "debian:12" }');
    writeFileSync(join(dir, 'src/café.md'), 'accents');
    writeFileSync(join(dir, 'src/empty.txt'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ascii = ['.devcontainer/devcontainer.json', 'empty.txt'];
  test.each([
    ['zip (Info-ZIP)', ['zip', '-qr', '../zip.zip', '.', '-x', 'café.md'], 'zip.zip', ascii],
    ['zip writing to a pipe (data descriptors)', ['sh', '-c', "zip -qr - . -x 'café.md' > ../pipe.zip"], 'pipe.zip', ascii],
    [
      'python zipfile (UTF-8 flag on non-ASCII names)',
      [
        'python3',
        '-c',
        "import zipfile,os\nwith zipfile.ZipFile('../py.zip','w',zipfile.ZIP_DEFLATED) as z:\n  [z.write(os.path.join(r,f)[2:]) for r,_,fs in os.walk('.') for f in fs]",
      ],
      'py.zip',
      ['.devcontainer/devcontainer.json', 'café.md', 'empty.txt'],
    ],
  ])('%s', (_name, [command, ...args], out, files) => {
    execFileSync(command, args, { cwd: join(dir, 'src') });
    const read = readZip(readFileSync(join(dir, out)));
    expect([...read.files.keys()]).toEqual(files);
  });

  test('refuses a non-ASCII name that Info-ZIP stores unflagged (Python would read it as code page 437)', () => {
    execFileSync('zip', ['-q', '../accent.zip', 'café.md'], { cwd: join(dir, 'src') });
    expect(refusal(() => readZip(readFileSync(join(dir, 'accent.zip'))))).toMatch(/café\.md has a non-ASCII name without the UTF-8 flag/);
  });

  test('packing holds the same entry limit as reading, so what dcf packs Prepare can read', async () => {
    await expect(collectFiles(join(dir, 'src'), { maxEntries: 2 })).rejects.toThrow(/holds 3 files, over the limit of 2 \(maxEntries\)/);
    const packed = writeZip(await collectFiles(join(dir, 'src'), { maxEntries: 3 }));
    expect(readZip(packed, { maxEntries: 3 }).files.size).toBe(3);
  });

  test('select keeps only the files asked for, after checking all of them', () => {
    const zip = craftZip([config, file('a.txt', 'aaa')]);
    expect([...readZip(zip, { select: (p) => p === CONFIG }).files.keys()]).toEqual([CONFIG]);
    expect(() => readZip(craftZip([config, { ...file('a.txt'), crc: 9 }]), { select: (p) => p === CONFIG })).toThrow(UnsafeArchiveError);
  });
});
