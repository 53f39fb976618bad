import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { parseJsonc, readZip } from '@devcontainer-factory/core';
import { ExitCode } from '../src';
import { IMAGE_FILES, Workspace } from './support/harness';

let ws: Workspace;
beforeEach(() => (ws = new Workspace()));
afterEach(() => ws.cleanup());

describe('dcf init', () => {
  test.each(['image', 'feature'])('writes a %s that validates and packs as it is, scripts executable', async (kind) => {
    const init = await ws.run(['init', kind, 'starter']);
    expect(init.code).toBe(ExitCode.Ok);
    expect(init.stdout).toContain(`created ${kind} starter in starter`);
    expect(init.stdout).toContain('dcf push starter --wait');

    const validate = await ws.run(['validate', 'starter', '--json']);
    expect(JSON.parse(validate.stdout)).toMatchObject({ kind, id: 'starter', valid: true, problems: [] });

    const scripts = kind === 'image' ? ['test-project/test.sh'] : ['install.sh', 'test/test.sh'];
    for (const script of scripts) expect(statSync(ws.path('starter', script)).mode & 0o777).toBe(0o755);
    expect((await ws.run(['pack', 'starter'])).code).toBe(ExitCode.Ok);
    expect([...readZip(readFileSync(ws.path('starter.zip'))).executables].sort()).toEqual(scripts);
  });

  test("writes an image on the factory's own base image, named through the variables the factory sets wherever it builds", async () => {
    const init = await ws.run(['init', 'image', 'starter']);
    expect(init.stdout).toContain('on ${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest');
    expect(init.stdout).toContain('Add it to the catalogue with dependsOn: [base]');

    const config = parseJsonc(readFileSync(ws.path('starter/.devcontainer/devcontainer.json'), 'utf8')).value!;
    expect(config.image).toBe('${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest');
    expect(JSON.parse((await ws.run(['validate', 'starter', '--json'])).stdout)).toMatchObject({ valid: true, problems: [] });
  });

  test.each([
    ['the id of a factory image: the portable reference to its latest', 'tools', '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/tools:latest'],
    ['a full image reference: as it is', 'mcr.microsoft.com/devcontainers/base:bookworm', 'mcr.microsoft.com/devcontainers/base:bookworm'],
  ])('--base takes %s', async (_, base, image) => {
    const init = await ws.run(['init', 'image', 'starter', '--base', base, '--json']);
    expect(JSON.parse(init.stdout)).toMatchObject({ kind: 'image', id: 'starter', base: image });
    expect(parseJsonc(readFileSync(ws.path('starter/.devcontainer/devcontainer.json'), 'utf8')).value?.image).toBe(image);
    expect(JSON.parse((await ws.run(['validate', 'starter', '--json'])).stdout)).toMatchObject({ valid: true, problems: [] });
  });

  test('--base refuses what is neither an id nor an image reference, and a feature, before it writes anything', async () => {
    const bad = await ws.run(['init', 'image', 'starter', '--base', 'My Base']);
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.stderr).toContain("--base 'My Base' is neither the id of one of the factory's images (such as 'base') nor an image reference");
    const feature = await ws.run(['init', 'feature', 'hello', '--base', 'base']);
    expect(feature.code).toBe(ExitCode.Usage);
    expect(feature.stderr).toContain('--base is for images');
    expect(existsSync(ws.path('starter'))).toBe(false);
    expect(existsSync(ws.path('hello'))).toBe(false);
  });

  test('the image test it writes passes with busybox sh, the shell of the example base image', async () => {
    await ws.run(['init', 'image', 'starter']);
    const out = execFileSync('busybox', ['sh', 'test-project/test.sh'], { cwd: ws.path('starter') }).toString();
    expect(out).toContain('all checks passed');
  });

  test('the feature it writes installs and passes its own test script', async () => {
    await ws.run(['init', 'feature', 'hello']);
    const bin = ws.path('bin');
    const install = readFileSync(ws.path('hello/install.sh'), 'utf8').replaceAll('/usr/local/bin', bin);
    execFileSync('mkdir', ['-p', bin]);
    execFileSync('sh', ['-c', install]);

    expect(execFileSync(`${bin}/hello`).toString()).toBe('hello from hello\n');
  });

  test('refuses a folder that is not empty, and names that are not ids', async () => {
    ws.write('taken', { 'notes.txt': 'mine' });

    const taken = await ws.run(['init', 'image', 'taken']);
    expect(taken.code).toBe(ExitCode.Usage);
    expect(taken.stderr).toContain("error: 'taken' is not empty: pass an empty or new folder, or --force to write into it");
    expect(readFileSync(ws.path('taken/notes.txt'), 'utf8')).toBe('mine');

    const badName = await ws.run(['init', 'image', 'My_Image']);
    expect(badName.code).toBe(ExitCode.Usage);
    expect(badName.stderr).toContain("image id 'My_Image' is invalid");
    expect(badName.stderr).toContain("(try 'my-image')");
    expect(badName.stderr).toContain('choose another folder name or pass --id');
  });
});

describe('dcf validate', () => {
  test('says a valid image is valid, with its size, and lists the inputs a build records', async () => {
    ws.write('python', IMAGE_FILES);

    const { code, stdout } = await ws.run(['validate', 'python']);

    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toMatch(
      /^✔ image python is valid \(2 files, \d+ B\)\n {2}1 input a build records \(a moved tag rebuilds it, a pinned digest does not move\):\n {2}base {2}mcr\.microsoft\.com\/devcontainers\/base:bookworm {2}python\/\.devcontainer\/devcontainer\.json:3\n$/,
    );
  });

  test('lists every problem with file, line and what to change, and exits 1', async () => {
    ws.write('python', {
      '.devcontainer/devcontainer.json':
        '{\n  "image": "ok/image:1",\n  "features": { "node": {} },\n  "customizations": { "devcontainer-factory": { "version": "1.0" } }\n}\n',
    });

    const { code, stdout } = await ws.run(['validate', 'python']);

    expect(code).toBe(ExitCode.ValidationFailed);
    expect(stdout).toBe(
      [
        '✖ image python has 2 problems:',
        '  python/.devcontainer/devcontainer.json:3:17: "node" is a deprecated short feature id: use a full OCI reference such as "ghcr.io/devcontainers/features/node:1"',
        '  python/.devcontainer/devcontainer.json:4:49: "1.0" is not a semantic version: use MAJOR.MINOR.PATCH such as "1.2.3" (optionally with a pre-release, "1.2.3-rc.1")',
        '',
      ].join('\n'),
    );
  });

  test('--json gives the problems as data', async () => {
    ws.write('hello', { 'devcontainer-feature.json': '{"id":"hello","version":"1.0.0","name":"Hello"}' });

    const { code, stdout } = await ws.run(['validate', 'hello', '--json']);

    expect(code).toBe(ExitCode.ValidationFailed);
    expect(JSON.parse(stdout)).toEqual({
      kind: 'feature',
      id: 'hello',
      valid: false,
      problems: [{ file: 'install.sh', message: expect.stringContaining('missing: a feature needs install.sh') }],
    });
  });

  test('uses colour only on a terminal without NO_COLOR', async () => {
    ws.write('python', IMAGE_FILES);
    const env = { ...process.env };
    delete env.NO_COLOR;

    const tty = await ws.run(['validate', 'python'], { tty: true, env });
    const pipe = await ws.run(['validate', 'python'], { tty: false, env });

    expect(tty.stdout).toContain('\u001b[32m✔\u001b[39m');
    expect(pipe.stdout).not.toContain('\u001b[');
  });
});

describe('dcf pack', () => {
  const files = {
    ...IMAGE_FILES,
    '.devcontainer/Dockerfile.notes': 'x',
    'README.md': '# python\n',
    '.gitignore': '*.log\nbuild/\n',
    'debug.log': 'noise',
    'build/out.bin': 'noise',
  };

  test('two packs of the same content, made at different times, in different orders and with different modes, are byte-identical', async () => {
    ws.write('one/python', files);
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    ws.write('two/python', reversed);
    for (const [i, rel] of Object.keys(files).entries()) utimesSync(ws.path('two/python', rel), 1_000_000 + i * 7777, 2_000_000_000 - i);
    execFileSync('chmod', ['g+w,o-r', ws.path('two/python/README.md')]);
    execFileSync('git', ['init', '-q', ws.path('two/python')]);

    const first = await ws.run(['pack', 'one/python', '-o', 'first.zip']);
    ws.clock.time += 3_600_000;
    const second = await ws.run(['pack', 'two/python', '-o', 'second.zip']);

    expect([first.code, second.code]).toEqual([0, 0]);
    const a = readFileSync(ws.path('first.zip'));
    const b = readFileSync(ws.path('second.zip'));
    expect(a.equals(b)).toBe(true);
    expect([...readZip(a).files.keys()]).toEqual([
      '.devcontainer/Dockerfile.notes',
      '.devcontainer/devcontainer.json',
      '.gitignore',
      'README.md',
      'test-project/test.sh',
    ]);
  });

  test('writes <id>.zip by default and reports its size and digest (--json)', async () => {
    ws.write('python', IMAGE_FILES);

    const { code, stdout } = await ws.run(['pack', 'python', '--json']);

    expect(code).toBe(ExitCode.Ok);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ kind: 'image', id: 'python', file: ws.path('python.zip'), files: 2 });
    const zip = readFileSync(ws.path('python.zip'));
    expect(result.bytes).toBe(zip.length);
    expect(result.sha256).toBe(createHash('sha256').update(zip).digest('hex'));
  });

  test('warns when the zip lands inside the folder it packs', async () => {
    ws.write('python', IMAGE_FILES);

    const { code, stderr } = await ws.run(['pack', '.'], { cwd: ws.path('python') });

    expect(code).toBe(ExitCode.Ok);
    expect(stderr).toBe(
      'warning: the zip is inside the folder it packs, so the next pack would include it: write it elsewhere (-o) or add *.zip to ./.gitignore\n',
    );
  });

  test('writes nothing for an invalid configuration', async () => {
    ws.write('python', { '.devcontainer/devcontainer.json': '{ "image": ' });
    writeFileSync(ws.path('python.zip'), 'previous');

    const { code, stderr } = await ws.run(['pack', 'python']);

    expect(code).toBe(ExitCode.ValidationFailed);
    expect(stderr).toContain('✖ image python has 2 problems; nothing was written:');
    expect(readFileSync(ws.path('python.zip'), 'utf8')).toBe('previous');
  });
});
