import { OciRegistry, type Registry } from '@devcontainer-factory/core';
import { startLocalRegistry, type LocalRegistry } from './local-registry';

/** The registry of a test file; its fields can be read once `beforeAll` has run (in tests and hooks). */
export interface LocalRegistryFixture {
  /** The running registry (its host, folder and storage). */
  readonly server: LocalRegistry;
  /** `localhost:<port>`. */
  readonly host: string;
  /** A client of the registry. */
  readonly registry: OciRegistry;
}

/**
 * Starts a local registry in `beforeAll` and stops it in `afterAll` of the
 * enclosing suite (the file, or the `describe` it is called in).
 */
export function useLocalRegistry(): LocalRegistryFixture {
  let started: { server: LocalRegistry; registry: OciRegistry } | undefined;
  beforeAll(async () => {
    const server = await startLocalRegistry();
    started = { server, registry: new OciRegistry({ host: server.host }) };
  });
  afterAll(async () => {
    await started?.server.stop();
  });
  const get = () => {
    if (!started) throw new Error('useLocalRegistry: the registry starts in beforeAll; read it inside a test or hook, not when the file loads');
    return started;
  };
  return {
    get server() {
      return get().server;
    },
    get host() {
      return get().server.host;
    },
    get registry() {
      return get().registry;
    },
  };
}

/** Every tag of a repository with the digest it points at. */
export async function tagSnapshot(registry: Registry, repository: string): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const tag of (await registry.listTags(repository)).sort()) snapshot[tag] = (await registry.getManifest(repository, tag))!.digest;
  return snapshot;
}
