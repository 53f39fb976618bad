import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../src/cli';

// What `dcf init catalog` writes builds on its own, outside this repository: its base image
// and the image `dcf init image` would write on it are built, tested and released by
// `dcf local run`, with the real docker-registry, podman, buildah and devcontainer CLI.
// One run, about 30 s.

jest.setTimeout(300_000);

interface RunJson {
  ok: boolean;
  images: Array<{ id: string; status: string; stages: Array<{ stage: string; status: string; detail: string }> }>;
}

/** `dcf ...argv` in `cwd`, without colours and without a namespace from the environment. */
async function dcfIn(cwd: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await exec(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd,
    env: { ...process.env, NO_COLOR: '1', DCF_NAMESPACE: undefined },
  });
  return { code, stdout, stderr };
}

describe('dcf init catalog, then dcf local run, in a folder outside the repository', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcf-init-catalog-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the catalogue it writes, a base image and an image on it, is built, tested and released as it is', async () => {
    const init = await dcfIn(dir, 'init', 'catalog', 'my-factory', '--id', 'python');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('dcf local run my-factory/catalog.yaml');
    expect(await readFile(join(dir, 'my-factory', 'catalog.yaml'), 'utf8')).toContain('  - id: python\n    dependsOn: [base]');

    const run = await dcfIn(dir, 'local', 'run', 'my-factory/catalog.yaml', '--json');
    const result = JSON.parse(run.stdout) as RunJson;
    const stages = (id: string) =>
      result.images.find((i) => i.id === id)?.stages.map((s) => `${s.stage}:${s.status}${s.status === 'failed' ? ` (${s.detail})` : ''}`);

    const all = ['validate:ok', 'pack:ok', 'prepare:ok', 'build:ok', 'manifest:ok', 'test:ok', 'sbom:ok', 'release:ok'];
    expect({ code: run.code, base: stages('base'), python: stages('python') }).toEqual({ code: 0, base: all, python: all });
    const python = result.images.find((i) => i.id === 'python')!;
    expect(python.stages.find((s) => s.stage === 'test')!.detail).toContain('test-project/test.sh passed ("all checks passed")');
    expect(python.stages.find((s) => s.stage === 'release')!.detail).toContain('moved 0.1.0, 0.1, 0, latest');
  });

  test.each([
    [['init', 'catalog', 'x', '--base', 'tools'], "--base is for images: a catalogue's images build on its own base image"],
    [['init', 'catalog', 'y', '--id', 'base'], "--id 'base' is the catalogue's base image"],
  ])('GIVEN %j THEN a usage error that says why, and nothing written', async (argv, message) => {
    const r = await dcfIn(dir, ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    await expect(readFile(join(dir, argv[2], 'catalog.yaml'))).rejects.toThrow(/ENOENT/);
  });
});
