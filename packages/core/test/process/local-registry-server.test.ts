import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRegistryServerError, OciRegistry, RegistryBinaryMissingError, registryAnswers, startLocalRegistryServer } from '../../src';

// Debian's docker-registry, started and stopped for real.

jest.setTimeout(60_000);

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'dcf-registry-server-test-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('GIVEN a storage folder WHEN the registry starts, takes a push and stops THEN it answered on localhost, and stop removed its folder but kept the storage', async () => {
  // GIVEN
  const storageDir = join(scratch, 'kept-storage');

  // WHEN
  const server = await startLocalRegistryServer({ storageDir });
  const answered = await registryAnswers(server.host);
  await new OciRegistry({ host: server.host }).pushImage('team/images/probe', 'v1', { config: { architecture: 'amd64', os: 'linux' }, layers: [] });
  await server.stop();
  await server.stop();

  // THEN
  expect(server.host).toBe(`localhost:${server.port}`);
  expect(server.pid).toEqual(expect.any(Number));
  expect(answered).toBe(true);
  expect(await registryAnswers(server.host)).toBe(false);
  expect(existsSync(server.dir)).toBe(false);
  expect(await readdir(join(storageDir, 'docker/registry/v2/repositories/team/images'))).toEqual(['probe']);
});

test('a missing binary is refused with how to install it', async () => {
  const binary = join(scratch, 'no-such-registry');

  const start = startLocalRegistryServer({ binary });

  await expect(start).rejects.toThrow(RegistryBinaryMissingError);
  await expect(start).rejects.toThrow(`${binary} is missing: install the registry (apt-get install -y docker-registry)`);
});

test('a registry that exits at start fails with its exit code and output, after a few tries', async () => {
  // GIVEN a "registry" that dies at once
  const binary = join(scratch, 'broken-registry');
  await writeFile(binary, '#!/bin/sh\necho "configuration error: $2 is not valid"\nexit 3\n');
  await chmod(binary, 0o755);

  // WHEN
  const start = startLocalRegistryServer({ binary, startTimeoutMs: 5_000 });

  // THEN
  await expect(start).rejects.toThrow(LocalRegistryServerError);
  await expect(start).rejects.toThrow(/^cannot start a local registry:\n.*broken-registry exited \(3\): configuration error: .*config-\d+\.yml is not valid/);
  const message = ((await start.catch((e: unknown) => e)) as Error).message;
  expect(message.split('\n').filter((line) => line.includes('exited (3)'))).toHaveLength(3);
});
