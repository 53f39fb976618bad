/**
 * The OCI registry of `dcf local`: the CNCF distribution registry that Debian's
 * `docker-registry` package installs, started on a free port of `localhost` with
 * its storage in a temp folder, or one that already answers at an address the
 * user gave.
 */
import { onInterrupt } from '../private/interrupt-cleanup';
import {
  FactoryError,
  LocalRegistryServerError,
  RegistryBinaryMissingError,
  registryAnswers,
  startLocalRegistryServer,
  type LocalRegistryServer,
} from '@devcontainer-factory/core';

/** Thrown when no registry could be started or reached; the message says what to install or pass. */
export class LocalRegistryError extends FactoryError {}

/** A registry `dcf local` works against. */
export interface LocalRegistry {
  /** `localhost:<port>`: the devcontainer CLI speaks plain HTTP only to a host named `localhost`. */
  readonly host: string;
  /** True when `dcf local` started it (and `stop()` stops it); false for one that was already running. */
  readonly started: boolean;
  /** Folder of the registry's config, log and storage, when `dcf local` started it. */
  readonly dir?: string;
  /** Process id of the registry, when `dcf local` started it. */
  readonly pid?: number;
  /** Stops the registry and removes its folder when `dcf local` started it; otherwise does nothing. Safe to call twice. */
  stop(): Promise<void>;
  /** Lets the registry outlive this process (for `--keep-running`): it keeps running and keeps its folder. */
  detach(): void;
}

export interface LocalRegistryProps {
  /**
   * Use the registry answering at this address (`localhost:<port>`) instead of starting one.
   * @default - start a new registry on a free port
   */
  readonly host?: string;
  /**
   * The registry binary.
   * @default - `/usr/bin/docker-registry` (`DOCKER_REGISTRY_BINARY`)
   */
  readonly binary?: string;
  /**
   * Folder for the registry's storage (kept after `stop()`).
   * @default - a new temp folder, removed by `stop()`
   */
  readonly storageDir?: string;
  /**
   * How long to wait for `/v2/` to answer.
   * @default 15000
   */
  readonly startTimeoutMs?: number;
  /**
   * Start the registry in a process group of its own, so that it can outlive this
   * process (`detach()`); otherwise Ctrl-C in the terminal stops it with `dcf`.
   * @default false
   */
  readonly keepRunning?: boolean;
}

/** Checks `--registry`: the devcontainer CLI and the image tools only treat `localhost` as plain HTTP. */
export function localRegistryHostProblem(host: string): string | undefined {
  if (!/^localhost:\d{1,5}$/.test(host))
    return `'${host}' is not a local registry address: use localhost:<port>, e.g. localhost:5000 (the devcontainer CLI speaks plain HTTP only to a host named localhost)`;
  const port = Number(host.split(':')[1]);
  if (port < 1 || port > 65535) return `'${host}' has no valid port: use a port between 1 and 65535`;
  return undefined;
}

/**
 * Reuses the registry at `props.host` when it answers; otherwise starts
 * `docker-registry` on that port (or on a free port when no host is given).
 * @throws LocalRegistryError when the binary is missing or the registry does not come up
 */
export async function openLocalRegistry(props: LocalRegistryProps = {}): Promise<LocalRegistry> {
  if (props.host) {
    const problem = localRegistryHostProblem(props.host);
    if (problem) throw new LocalRegistryError(problem);
    if (await registryAnswers(props.host)) return { host: props.host, started: false, stop: async () => undefined, detach: () => undefined };
    throw new LocalRegistryError(`no registry answers at http://${props.host}/v2/: start one there, or leave out --registry and dcf local starts its own`);
  }
  let server: LocalRegistryServer;
  // Interrupted while it starts: abort the start (which kills it and removes its folder); once it runs: stop it.
  const starting = new AbortController();
  const start = startLocalRegistryServer({
    binary: props.binary,
    storageDir: props.storageDir,
    startTimeoutMs: props.startTimeoutMs,
    detached: props.keepRunning,
    signal: starting.signal,
  });
  const forgetStart = onInterrupt(async () => {
    starting.abort();
    // Wait until the start gave up and cleaned up, or stop the registry if it came up just now.
    await start.then(
      (s) => s.stop(),
      () => undefined,
    );
  });
  try {
    server = await start;
  } catch (e) {
    if (e instanceof RegistryBinaryMissingError)
      throw new LocalRegistryError(`${e.message}, or pass --registry localhost:<port> of a running one`, { cause: e });
    if (e instanceof LocalRegistryServerError) throw new LocalRegistryError(e.message, { cause: e });
    throw e;
  } finally {
    forgetStart();
  }
  const forget = onInterrupt(() => server.stop());
  return {
    host: server.host,
    started: true,
    dir: server.dir,
    pid: server.pid,
    stop: async () => {
      forget();
      await server.stop();
    },
    detach: () => {
      forget();
      server.detach();
    },
  };
}
