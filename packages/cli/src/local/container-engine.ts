/**
 * The image tools of `dcf local`: podman (driven by the devcontainer CLI) to
 * build, buildah to make the offline upstream image and to run the tests, with
 * their own storage in a temp folder (vfs driver, chroot isolation: no daemon,
 * no privileges beyond root) and the local registry marked as plain HTTP.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandFailedError, UnsupportedPlatformError } from '@devcontainer-factory/core';
import { onInterrupt } from '../private/interrupt-cleanup';

/** Thrown when an engine command fails; `output` holds the end of what it printed. */
export class EngineCommandError extends CommandFailedError {}

/** The tools `dcf local` needs on the PATH, with the Debian package that has each. */
export const ENGINE_TOOLS: Readonly<Record<string, string>> = { buildah: 'buildah', podman: 'podman' };

/**
 * The platform of this machine, as an OCI platform name (`linux/amd64` or `linux/arm64`).
 * @throws UnsupportedPlatformError on any other architecture
 */
export function hostPlatform(arch: string = process.arch): string {
  if (arch === 'x64') return 'linux/amd64';
  if (arch === 'arm64') return 'linux/arm64';
  throw new UnsupportedPlatformError(`dcf local builds for the host platform, and ${arch} is not one the factory supports (amd64, arm64)`);
}

export interface ContainerEngineProps {
  /** The local registry, `localhost:<port>`: pulls and pushes to it use plain HTTP. */
  readonly registryHost: string;
  /**
   * Folder for the engine's storage and configuration.
   * @default - a new temp folder, removed by `dispose()`
   */
  readonly workDir?: string;
}

/** podman and buildah with a private storage; `env` is what their child processes get. */
export class ContainerEngine {
  /** Starts an engine: writes its storage and registries configuration. */
  static async create(props: ContainerEngineProps): Promise<ContainerEngine> {
    const own = !props.workDir;
    const dir = props.workDir ?? (await mkdtemp(join(tmpdir(), 'dcf-local-engine-')));
    await mkdir(join(dir, 'storage'), { recursive: true });
    await mkdir(join(dir, 'run'), { recursive: true });
    const storageConf = join(dir, 'storage.conf');
    const registriesConf = join(dir, 'registries.conf');
    await writeFile(storageConf, ['[storage]', 'driver = "vfs"', `runroot = "${join(dir, 'run')}"`, `graphroot = "${join(dir, 'storage')}"`, ''].join('\n'));
    await writeFile(
      registriesConf,
      ['unqualified-search-registries = []', '', '[[registry]]', `location = "${props.registryHost}"`, 'insecure = true', ''].join('\n'),
    );
    await writeFile(join(dir, 'auth.json'), '{}');
    const env: Record<string, string> = {
      CONTAINERS_STORAGE_CONF: storageConf,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      BUILDAH_ISOLATION: 'chroot',
      // Keep login files and caches out of the user's home.
      REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
    };
    return new ContainerEngine(dir, own, env);
  }

  private constructor(
    /** The engine's folder. */
    readonly dir: string,
    private readonly own: boolean,
    /** Environment for podman, buildah and the devcontainer CLI. */
    readonly env: Readonly<Record<string, string>>,
  ) {}

  /** Runs `command args…` with the engine's environment; resolves with stdout. */
  run(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
    const shown = `${command} ${args.join(' ')}`;
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...args], { cwd: options.cwd, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      // A SIGTERM to dcf alone does not reach its children: stop this one, and wait until it has let go of the engine's folder.
      const closed = new Promise<void>((r) => child.once('close', () => r()));
      const forget = onInterrupt(() => (child.kill('SIGTERM'), closed));
      void closed.then(forget);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', (cause) =>
        reject(
          new EngineCommandError(
            `cannot run '${shown}': ${cause.message} (install ${ENGINE_TOOLS[command] ?? command}: apt-get install -y buildah podman)`,
            null,
            '',
            { cause },
          ),
        ),
      );
      child.on('close', (code) => {
        if (code === 0) return resolve(stdout);
        const output = `${stderr}\n${stdout}`.trim().split('\n').slice(-20).join('\n');
        reject(new EngineCommandError(`'${shown}' failed with exit code ${code}:\n${output}`, code, output));
      });
    });
  }

  /** `buildah <args>` on the engine's storage. */
  buildah(...args: string[]): Promise<string> {
    return this.run('buildah', args);
  }

  /** Removes the engine's storage (when it made its own folder). */
  async dispose(): Promise<void> {
    if (this.own && existsSync(this.dir)) await rm(this.dir, { recursive: true, force: true });
  }
}
