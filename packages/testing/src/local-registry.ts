import { RegistryBinaryMissingError, startLocalRegistryServer, type LocalRegistryServer, type LocalRegistryServerProps } from '@devcontainer-factory/core';

export { DOCKER_REGISTRY_BINARY } from '@devcontainer-factory/core';

/** A running local OCI registry (plain HTTP, no auth, deletes enabled); `host` is `localhost:<port>`. */
export type LocalRegistry = LocalRegistryServer;

/** `binary` (default `DOCKER_REGISTRY_BINARY`) and `startTimeoutMs` (default 15000). */
export type LocalRegistryOptions = Pick<LocalRegistryServerProps, 'binary' | 'startTimeoutMs'>;

/**
 * Starts the CNCF distribution registry (`/usr/bin/docker-registry`) on a free port
 * of `localhost`, with its storage in a new temp folder, and waits until `/v2/`
 * answers. Call `stop()` in `afterAll` (or use `useLocalRegistry`).
 * Throws, never skips, when the binary is missing.
 */
export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  try {
    return await startLocalRegistryServer(options);
  } catch (e) {
    if (e instanceof RegistryBinaryMissingError) throw new Error(`the registry integration tests need a real OCI registry: ${e.message}`, { cause: e });
    throw e;
  }
}
