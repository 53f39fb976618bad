import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FeatureArtifactError, FeatureContent, featureContentDifferences, featureContentFromArchive, featureContentFromTar } from '../../src';
import { featureUpload } from '@devcontainer-factory/testing';

const exec = promisify(execFile);
const enc = (s: string) => new TextEncoder().encode(s);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dcf-tar-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A feature folder packed by GNU tar, as `./`-prefixed entries like the devcontainer CLI writes. */
async function tarOf(name: string, format: string, gzip: boolean): Promise<Uint8Array> {
  const root = join(dir, name);
  const long = `${'deep/'.repeat(25)}file.txt`;
  await mkdir(join(root, 'deep/'.repeat(25)), { recursive: true });
  await writeFile(join(root, 'install.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'install.sh'), 0o755);
  await writeFile(join(root, 'devcontainer-feature.json'), '{"id":"hello","version":"1.0.0"}');
  await writeFile(join(root, long), 'long');
  await symlink('install.sh', join(root, 'link.sh'));
  const out = join(dir, `${name}.tar${gzip ? '.gz' : ''}`);
  await exec('tar', [`--format=${format}`, gzip ? '-czf' : '-cf', out, '-C', root, '.']);
  return readFile(out);
}

describe('featureContentFromTar', () => {
  test.each([
    ['pax', false],
    ['gnu', false],
    ['ustar', true],
  ])('reads a %s tar (gzipped: %s) with long paths, modes and symlinks', async (format, gzip) => {
    // GIVEN
    const bytes = await tarOf(`${format}-${gzip}`, format, gzip);

    // WHEN
    const content = featureContentFromTar(bytes);

    // THEN
    const long = `${'deep/'.repeat(25)}file.txt`;
    expect([...content.keys()].sort()).toEqual(['deep/'.repeat(25) + 'file.txt', 'devcontainer-feature.json', 'install.sh', 'link.sh'].sort());
    expect(content.get('install.sh')).toMatchObject({ executable: true });
    expect(Buffer.from(content.get('install.sh')!.data).toString()).toBe('#!/bin/sh\necho hi\n');
    expect(content.get('devcontainer-feature.json')!.executable).toBe(false);
    expect(Buffer.from(content.get(long)!.data).toString()).toBe('long');
    expect(content.get('link.sh')!.linkTarget).toBe('install.sh');
  });

  test('refuses bytes that are not a tar', () => {
    expect(() => featureContentFromTar(new Uint8Array(1024).fill(7), 'the layer')).toThrow(FeatureArtifactError);
    expect(() => featureContentFromTar(new Uint8Array(1024).fill(7), 'the layer')).toThrow(
      /the layer cannot be read: the tar header at byte 0 has a wrong checksum/,
    );
  });

  test('refuses a tar cut short', async () => {
    const bytes = await tarOf('short', 'pax', false);
    expect(() => featureContentFromTar(bytes.subarray(0, 1100))).toThrow(/cut short/);
  });
});

describe('featureContentDifferences', () => {
  const base: FeatureContent = featureContentFromArchive(featureUpload('hello', '1.0.0', { extra: { 'lib/a.sh': 'a' } }));

  test('is empty for the same files, whatever their order', () => {
    const same = new Map([...base].reverse());
    expect(featureContentDifferences(base, same)).toEqual([]);
  });

  test('names changed, added and removed files and changed execute bits', () => {
    // GIVEN
    const next = new Map(base);
    next.set('install.sh', { data: enc('other'), executable: true });
    next.delete('lib/a.sh');
    next.set('lib/b.sh', { data: enc('b'), executable: false });
    next.set('devcontainer-feature.json', { ...base.get('devcontainer-feature.json')!, executable: true });

    // THEN
    expect(featureContentDifferences(base, next)).toEqual([
      'devcontainer-feature.json: now executable',
      'install.sh: content changed',
      'lib/a.sh: removed',
      'lib/b.sh: added',
    ]);
  });
});
