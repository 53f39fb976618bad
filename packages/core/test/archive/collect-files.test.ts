import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UnsafeArchiveError, collectFiles } from '../../src/archive';
import { InvalidConfigurationError } from '../../src';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dcf-collect-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string, mode = 0o644): void {
  const file = join(root, 'config', rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, mode);
}
const dir = () => join(root, 'config');
const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsafeArchiveError);
  expect(error).toBeInstanceOf(InvalidConfigurationError);
  return (error as UnsafeArchiveError).problems.map((p) => `${p.file}: ${p.message}`);
}

describe('collectFiles', () => {
  test('reads every file with POSIX paths, sorted, and keeps the executable bit', async () => {
    write('install.sh', '#!/bin/sh\n', 0o755);
    write('test/test.sh', '#!/bin/sh\n', 0o700);
    write('devcontainer-feature.json', '{}');

    const content = await collectFiles(dir());

    expect([...content.files.keys()]).toEqual(['devcontainer-feature.json', 'install.sh', 'test/test.sh']);
    expect([...content.executables].sort()).toEqual(['install.sh', 'test/test.sh']);
    expect(text(content.files.get('install.sh'))).toBe('#!/bin/sh\n');
  });

  test('leaves out .git and what root and nested .gitignore files exclude, honouring negations', async () => {
    write('.git/config', '[core]');
    write('.gitignore', 'node_modules/\n*.log\n!keep.log\n');
    write('node_modules/x/index.js', 'x');
    write('debug.log', 'noise');
    write('keep.log', 'kept');
    write('sub/.gitignore', 'secret.txt\n');
    write('sub/secret.txt', 'secret');
    write('sub/public.txt', 'public');
    write('secret.txt', 'not ignored at the root');

    const content = await collectFiles(dir());

    expect([...content.files.keys()]).toEqual(['.gitignore', 'keep.log', 'secret.txt', 'sub/.gitignore', 'sub/public.txt']);
  });

  test('packs everything when gitignore is off, except .git', async () => {
    write('.gitignore', '*.log\n');
    write('a.log', 'a');
    write('.git/HEAD', 'ref');

    const content = await collectFiles(dir(), { gitignore: false });

    expect([...content.files.keys()]).toEqual(['.gitignore', 'a.log']);
  });

  test('follows symlinks to files and folders inside the folder', async () => {
    write('shared/common.sh', 'echo common', 0o755);
    symlinkSync('shared/common.sh', join(dir(), 'link.sh'));
    symlinkSync('shared', join(dir(), 'alias'));

    const content = await collectFiles(dir());

    expect(text(content.files.get('link.sh'))).toBe('echo common');
    expect(text(content.files.get('alias/common.sh'))).toBe('echo common');
    expect(content.executables.has('link.sh')).toBe(true);
  });

  test('refuses symlinks that point outside, dangle or loop, and lists every one', async () => {
    write('ok.txt', 'ok');
    writeFileSync(join(root, 'outside.txt'), 'secret');
    symlinkSync('../outside.txt', join(dir(), 'escape'));
    symlinkSync('/etc', join(dir(), 'etc'));
    symlinkSync('missing.txt', join(dir(), 'dangling'));
    mkdirSync(join(dir(), 'loop'));
    symlinkSync('..', join(dir(), 'loop', 'up'));

    const problems = await problemsOf(collectFiles(dir()));

    expect(problems).toEqual([
      "dangling: is a symlink to 'missing.txt', which does not exist: remove it or point it at a file inside the folder",
      "escape: is a symlink to '../outside.txt', outside the folder: replace it with a copy of what it points to",
      "etc: is a symlink to '/etc', outside the folder: replace it with a copy of what it points to",
      'loop/up: is a symlink that loops back to a folder that contains it: remove it',
    ]);
  });

  test('refuses a FIFO without opening it', async () => {
    write('ok.txt', 'ok');
    execFileSync('mkfifo', [join(dir(), 'pipe')]);

    const problems = await problemsOf(collectFiles(dir()));

    expect(problems).toEqual([expect.stringMatching(/^pipe: is a FIFO \(named pipe\): only regular files/)]);
  });

  test('refuses file names that are not portable paths', async () => {
    write('back\\slash.txt', 'x');

    const problems = await problemsOf(collectFiles(dir()));

    expect(problems).toEqual([expect.stringContaining('back\\slash.txt: the path contains a backslash')]);
  });

  test('refuses content over the size limit before reading it, naming the largest files', async () => {
    write('big.bin', 'x'.repeat(3000));
    write('small.txt', 'x'.repeat(100));

    const problems = await problemsOf(collectFiles(dir(), { maxSize: 2048 }));

    expect(problems).toEqual([
      '.: the configuration holds 3.0 KiB, over the limit of 2.0 KiB: leave large files out (add them to .gitignore) or raise the limit (--max-size); largest: big.bin (2.9 KiB), small.txt (100 B)',
    ]);
  });

  test('says so when the folder does not exist or is a file', async () => {
    await expect(collectFiles(join(root, 'nope'))).rejects.toThrow(/cannot read the folder \(ENOENT\): check the path/);
    writeFileSync(join(root, 'file'), 'x');
    await expect(collectFiles(join(root, 'file'))).rejects.toThrow(/is not a folder: pass the folder that holds the configuration/);
  });
});
