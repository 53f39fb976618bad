import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, dcfInRepo as dcf } from '../support/repo-run';

// What `dcf init image` writes builds in `dcf local` as it is: on a copy of the example
// catalogue, with the real docker-registry, podman, buildah and devcontainer CLI. One run, about 20 s.

jest.setTimeout(240_000);

interface RunJson {
  ok: boolean;
  images: Array<{ id: string; status: string; stages: Array<{ stage: string; status: string; detail: string }> }>;
}

describe('dcf init image, then dcf local run', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcf-init-build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the configuration it writes, on the factory base image, is built, tested and released with dependsOn: [base]', async () => {
    const examples = join(dir, 'examples');
    await cp(join(REPO_ROOT, 'examples'), examples, { recursive: true });
    const init = await dcf('init', 'image', join(examples, 'images', 'starter'));
    expect(init.code).toBe(0);
    // Only what the new image needs, so that the one run is short: base, and the new image on it.
    const catalog = (await readFile(join(examples, 'catalog.yaml'), 'utf8')).replace(/^images:\n[\s\S]*$/m, '');
    await writeFile(
      join(examples, 'catalog.yaml'),
      `${catalog}images:\n  - id: base\n    releaseTags: [latest]\n  - id: starter\n    dependsOn: [base]\n    releaseTags: [latest, semver]\n`,
    );

    const run = await dcf('local', 'run', join(examples, 'catalog.yaml'), '--json');
    const result = JSON.parse(run.stdout) as RunJson;
    const starter = result.images.find((i) => i.id === 'starter');

    expect({ code: run.code, stages: starter?.stages.map((s) => `${s.stage}:${s.status}${s.status === 'failed' ? ` (${s.detail})` : ''}`) }).toEqual({
      code: 0,
      stages: ['validate:ok', 'pack:ok', 'prepare:ok', 'build:ok', 'manifest:ok', 'test:ok', 'sbom:ok', 'release:ok'],
    });
    expect(starter!.stages.find((s) => s.stage === 'test')!.detail).toContain('test-project/test.sh passed ("all checks passed")');
    expect(starter!.stages.find((s) => s.stage === 'release')!.detail).toContain('moved 0.1.0, 0.1, 0, latest');
  });
});
