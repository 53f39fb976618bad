import { createServer } from 'node:net';
import { join } from 'node:path';
import { RegistryBinaryMissingError } from '@devcontainer-factory/core';
import { LocalRegistryError, openLocalRegistry } from '../../src/local/local-registry';

// The errors of `dcf local`'s registry, which say what to install or pass. Starting
// and stopping a real registry is covered by local-run.test.ts.

test('a missing registry binary says how to install it or which option to pass, and keeps the cause', async () => {
  const binary = join(__dirname, 'no-such-registry');

  const error = await openLocalRegistry({ binary }).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(LocalRegistryError);
  expect((error as Error).message).toBe(
    `${binary} is missing: install the registry (apt-get install -y docker-registry), or pass --registry localhost:<port> of a running one`,
  );
  expect((error as Error).cause).toBeInstanceOf(RegistryBinaryMissingError);
});

test('--registry at a port where no registry answers says to start one or leave the option out', async () => {
  // GIVEN a port that nothing listens on
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

  // WHEN / THEN
  await expect(openLocalRegistry({ host: `localhost:${port}` })).rejects.toThrow(
    new LocalRegistryError(`no registry answers at http://localhost:${port}/v2/: start one there, or leave out --registry and dcf local starts its own`),
  );
});
