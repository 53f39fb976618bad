import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { buildInputReferences } from '../../src/image/build-inputs';
import { MAX_DOCKERFILE_SUBSTITUTIONS, MAX_DOCKERFILE_VALUE_LENGTH } from '../../src/config/dockerfile';
import { InvalidConfigurationError, type ConfigProblem } from '../../src/config-files';
import { validateImageFiles } from '../../src/image/validate-image';

// Hostile Dockerfiles whose global ARGs refer to earlier ARGs: without a bound, 30 doubling
// lines (some 650 bytes) expand to 2^30 characters per value and kill Prepare with a fatal
// out-of-memory; 12 lines of 8 copies each end in `RangeError: Invalid string length`.

const DOCKERFILE = '.devcontainer/Dockerfile';
const VALUES = { registry: 'localhost:5000', namespace: 'acme' };

/** `ARG V0=x`, then `levels` lines that each repeat the previous ARG `copies` times, then a FROM that uses the last. */
function growingArgs(levels: number, copies: number, name = 'V'): string {
  const lines = [`ARG ${name}0=x`];
  for (let i = 1; i <= levels; i++) lines.push(`ARG ${name}${i}=${`\${${name}${i - 1}}`.repeat(copies)}`);
  lines.push(`FROM debian:\${${name}${levels}}`);
  return `${lines.join('\n')}\n`;
}

const config = { build: { dockerfile: 'Dockerfile' } };
const configuration = (dockerfile: string) => ({ configPath: '.devcontainer/devcontainer.json', config, buildFiles: new Map([[DOCKERFILE, dockerfile]]) });

/** The problems of the InvalidConfigurationError that Prepare's reading throws. */
function prepareRefusal(dockerfile: string): readonly ConfigProblem[] {
  try {
    buildInputReferences(configuration(dockerfile), VALUES);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    return (e as InvalidConfigurationError).problems;
  }
  throw new Error('expected the Dockerfile to be refused');
}

const lengthMessage = (what: string) =>
  `${what} expands to more than ${MAX_DOCKERFILE_VALUE_LENGTH} characters, the limit of a global ARG or FROM value (MAX_DOCKERFILE_VALUE_LENGTH): ` +
  'an image reference is a few hundred characters at most, so an ARG that repeats earlier ARGs is refused; ' +
  'write the value out, or declare a long ARG after the FROM of the stage that uses it (the factory reads only the ARGs before the first FROM)';

describe('Prepare reads a Dockerfile within bounds', () => {
  test('GIVEN ARGs that double over 30 levels (some 650 bytes) THEN the first ARG past 4096 characters is refused with its line, at once', () => {
    const dockerfile = growingArgs(30, 2);
    expect(Buffer.byteLength(dockerfile)).toBeLessThan(700);
    const started = Date.now();
    // V13 is 2^13 = 8192 characters, the first past the limit; it is declared on line 14.
    expect(prepareRefusal(dockerfile)).toEqual([{ file: DOCKERFILE, line: 14, message: lengthMessage('ARG V13') }]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('GIVEN ARGs that grow 8 times per level over 12 levels THEN ARG V5 (8^5 characters) is refused, not a RangeError', () => {
    expect(prepareRefusal(growingArgs(12, 8))).toEqual([{ file: DOCKERFILE, line: 6, message: lengthMessage('ARG V5') }]);
  });

  test('GIVEN a FROM that repeats an ARG of 3000 characters THEN the FROM is refused with its line', () => {
    const [problem] = prepareRefusal(`ARG TAG=${'a'.repeat(3000)}\nFROM debian:$TAG$TAG\n`);
    expect(problem).toEqual({ file: DOCKERFILE, line: 2, message: lengthMessage('FROM debian:$TAG$TAG') });
  });

  test('GIVEN more substitutions than the limit THEN the ARG that passes it is refused with the limit', () => {
    const lines = ['ARG C0=x', ...Array.from({ length: MAX_DOCKERFILE_SUBSTITUTIONS + 10 }, (_, i) => `ARG C${i + 1}=$C0`), 'FROM debian:$C1'];
    expect(prepareRefusal(lines.join('\n'))).toEqual([
      {
        file: DOCKERFILE,
        line: MAX_DOCKERFILE_SUBSTITUTIONS + 2,
        message:
          `ARG C${MAX_DOCKERFILE_SUBSTITUTIONS + 1} takes the file past ${MAX_DOCKERFILE_SUBSTITUTIONS} variable substitutions in its global ARGs and FROMs (MAX_DOCKERFILE_SUBSTITUTIONS): ` +
          'refer to fewer ARGs before the first FROM, or declare them after the FROM of the stage that uses them',
      },
    ]);
  });

  test('GIVEN values up to the limit THEN they are read', () => {
    const notes = 'n'.repeat(MAX_DOCKERFILE_VALUE_LENGTH);
    const refs = buildInputReferences(
      configuration(`ARG NOTES=${notes}\nARG COPY=$NOTES\nARG REGISTRY=docker.io\nFROM \${REGISTRY}/library/debian:\${TAG:-12} AS base\nFROM base\n`),
      VALUES,
    );
    expect(refs).toEqual([{ kind: 'base', reference: 'docker.io/library/debian:12' }]);
  });
});

describe('dcf validate reads the Dockerfile as Prepare does', () => {
  test('GIVEN the 30-level doubling Dockerfile THEN validate refuses it with the same problem as Prepare', () => {
    const files = new Map([
      ['.devcontainer/devcontainer.json', new TextEncoder().encode(JSON.stringify(config))],
      [DOCKERFILE, new TextEncoder().encode(growingArgs(30, 2))],
    ]);
    expect(validateImageFiles(files)).toEqual(prepareRefusal(growingArgs(30, 2)));
  });

  test('GIVEN a FROM whose ARG has no value THEN validate says so too; with the build arg set, nothing', () => {
    const files = (args?: Record<string, string>) =>
      new Map([
        ['.devcontainer/devcontainer.json', new TextEncoder().encode(JSON.stringify({ build: { dockerfile: 'Dockerfile', ...(args && { args }) } }))],
        [DOCKERFILE, new TextEncoder().encode('ARG BASE\nFROM $BASE/images/base:latest\n')],
      ]);
    expect(validateImageFiles(files())).toEqual([
      {
        file: DOCKERFILE,
        line: 2,
        message:
          'FROM $BASE/images/base:latest uses $BASE, which has no value when the build starts: give the ARG a default or set it in build.args of devcontainer.json',
      },
    ]);
    expect(validateImageFiles(files({ BASE: '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}' }))).toEqual([]);
  });
});

describe('in a process with a small heap', () => {
  let dir: string;
  let child: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcf-dockerfile-'));
    child = join(dir, 'dockerfile-child.js');
    const contents = [
      "import { readFileSync } from 'node:fs';",
      "import { buildInputReferences } from '../../src/image/build-inputs';",
      "const buildFiles = new Map([['.devcontainer/Dockerfile', readFileSync(process.argv[2], 'utf8')]]);",
      'try {',
      "  buildInputReferences({ configPath: '.devcontainer/devcontainer.json', config: { build: { dockerfile: 'Dockerfile' } }, buildFiles }, { registry: 'localhost:5000', namespace: 'acme' });",
      "  console.log(JSON.stringify({ outcome: 'read' }));",
      '} catch (e) {',
      "  console.log(JSON.stringify({ outcome: 'refused', name: e.name, message: e.message }));",
      '}',
    ].join('\n');
    buildSync({
      stdin: { contents, resolveDir: __dirname, loader: 'ts' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: child,
      logLevel: 'error',
      mainFields: ['module', 'main'],
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('GIVEN the 30-level doubling Dockerfile THEN Prepare refuses it under --max-old-space-size=64 instead of running out of memory', () => {
    const input = join(dir, 'Dockerfile');
    writeFileSync(input, growingArgs(30, 2));
    const out = execFileSync(process.execPath, ['--max-old-space-size=64', child, input], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    const result = JSON.parse(out.trim()) as { outcome: string; name: string; message: string };
    expect(result).toEqual({
      outcome: 'refused',
      name: 'InvalidConfigurationError',
      message: expect.stringContaining(`${DOCKERFILE}:14: ${lengthMessage('ARG V13')}`),
    });
  }, 60_000);
});
