/**
 * `dcf validate` shows what a build of an image would record as its inputs (what makes it
 * rebuild when it moves), read by Prepare's own function: kind, the reference as written
 * and after substitution, where it is named, and whether the configuration pins it.
 */
import { ExitCode } from '../src';
import { Workspace } from './support/harness';

let ws: Workspace;
beforeEach(() => (ws = new Workspace()));
afterEach(() => ws.cleanup());

const D = (c: string) => `sha256:${c.repeat(64)}`;
const NODE = 'ghcr.io/devcontainers/features/node';
const files = {
  '.devcontainer/devcontainer.json': JSON.stringify({ build: { dockerfile: 'Dockerfile', args: { PY: '3.12' } }, features: { [`${NODE}:1`]: {} } }, null, 2),
  '.devcontainer/Dockerfile': '# syntax=docker/dockerfile:1.7\nARG PY=3.11\nFROM mcr.microsoft.com/devcontainers/python:1-${PY}\n',
  '.devcontainer/devcontainer-lock.json': JSON.stringify(
    { features: { [`${NODE}:1`]: { version: '1.6.2', resolved: `${NODE}@${D('a')}`, integrity: D('a') } } },
    null,
    2,
  ),
};

test('lists each input with where it is named, substituted and locked', async () => {
  // GIVEN
  ws.write('python', files);

  // WHEN
  const { code, stdout } = await ws.run(['validate', 'python']);

  // THEN
  expect(code).toBe(ExitCode.Ok);
  expect(stdout).toContain('✔ image python is valid (3 files,');
  expect(stdout).toContain('3 inputs a build records');
  expect(stdout).toMatch(
    /base {6}mcr\.microsoft\.com\/devcontainers\/python:1-\$\{PY\} → mcr\.microsoft\.com\/devcontainers\/python:1-3\.12 {2}python\/\.devcontainer\/Dockerfile:3/,
  );
  expect(stdout).toMatch(new RegExp(`feature {3}${NODE}:1 \\(locked\\) {2}python/\\.devcontainer/devcontainer\\.json:9`));
  expect(stdout).toMatch(/frontend {2}docker\/dockerfile:1\.7 {2}python\/\.devcontainer\/Dockerfile:1/);
});

test('--json gives the inputs as kind, reference as written, resolved, file, line and pinned', async () => {
  ws.write('python', files);
  const { code, stdout } = await ws.run(['validate', 'python', '--json']);
  expect(code).toBe(ExitCode.Ok);
  expect(JSON.parse(stdout).inputs).toEqual([
    {
      kind: 'base',
      reference: 'mcr.microsoft.com/devcontainers/python:1-${PY}',
      resolved: 'mcr.microsoft.com/devcontainers/python:1-3.12',
      file: '.devcontainer/Dockerfile',
      line: 3,
      pinned: false,
    },
    { kind: 'feature', reference: `${NODE}:1`, resolved: `${NODE}:1`, file: '.devcontainer/devcontainer.json', line: 9, pinned: true },
    { kind: 'frontend', reference: 'docker/dockerfile:1.7', resolved: 'docker/dockerfile:1.7', file: '.devcontainer/Dockerfile', line: 1, pinned: false },
  ]);
});

test('a lockfile that does not lock a feature devcontainer.json names is refused, with the line and the fix', async () => {
  ws.write('python', { ...files, '.devcontainer/devcontainer-lock.json': JSON.stringify({ features: {} }) });
  const { code, stdout } = await ws.run(['validate', 'python']);
  expect(code).toBe(ExitCode.ValidationFailed);
  expect(stdout).toContain(`python/.devcontainer/devcontainer.json:9: the feature "${NODE}:1" is not in the lockfile .devcontainer/devcontainer-lock.json`);
  expect(stdout).toContain('devcontainer upgrade --workspace-folder .');
});

describe('options of a local feature, against its definition', () => {
  const feature = JSON.stringify({
    id: 'greeting',
    version: '1.0.0',
    name: 'Greeting',
    options: { greeting: { type: 'string', default: 'hello', enum: ['hello', 'hi'] }, loud: { type: 'boolean', default: false } },
  });
  const image = (options: unknown) => ({
    '.devcontainer/devcontainer.json': JSON.stringify({ image: 'mcr.microsoft.com/devcontainers/base:bookworm', features: { './greeting': options } }, null, 2),
    '.devcontainer/greeting/devcontainer-feature.json': feature,
    '.devcontainer/greeting/install.sh': '#!/bin/sh\necho "$GREETING"\n',
  });

  test('what the devcontainer CLI tolerates is a warning: the image is still valid', async () => {
    ws.write('greeter', image({ greting: 'hi', loud: 'true' }));
    const { code, stdout } = await ws.run(['validate', 'greeter']);
    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toMatch(/⚠ greeter\/\.devcontainer\/devcontainer\.json:\d+:\d+: .*"greting"/);
    expect(stdout).toMatch(/⚠ greeter\/\.devcontainer\/devcontainer\.json:\d+:\d+: .*"loud"/);
    const json = JSON.parse((await ws.run(['validate', 'greeter', '--json'])).stdout);
    expect(json.valid).toBe(true);
    expect(json.warnings.map((w: { message: string }) => w.message).join('\n')).toContain('greting');
  });

  test('what the devcontainer CLI fails on is a problem: an object as an option value', async () => {
    ws.write('greeter', image({ greeting: { nested: true } }));
    const { code, stdout } = await ws.run(['validate', 'greeter']);
    expect(code).toBe(ExitCode.ValidationFailed);
    expect(stdout).toMatch(/greeter\/\.devcontainer\/devcontainer\.json:\d+:\d+: .*greeting/);
  });
});
