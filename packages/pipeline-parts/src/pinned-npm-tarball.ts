/**
 * The npm registry's own tarball of a pinned package, for buildspec runs (tests, the deploy
 * rehearsal) whose `npm pack` shim must answer with the real bytes, so that the buildspec's
 * SHA-512 check (`checkedNpmPackCommands`) runs on what CodeBuild would download.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEVCONTAINER_CLI_INTEGRITY, DEVCONTAINER_CLI_PACKAGE, DEVCONTAINER_CLI_VERSION, FactoryError, integritySha512Hex } from '@devcontainer-factory/core';

/** A package version and the npm integrity of its tarball. */
export interface PinnedNpmPackage {
  readonly name: string;
  readonly version: string;
  /** `sha512-…`, as `npm view <name>@<version> dist.integrity` prints it. */
  readonly integrity: string;
}

/** The devcontainer CLI that every buildspec installs, as core pins it. */
export const PINNED_DEVCONTAINER_CLI: PinnedNpmPackage = {
  name: DEVCONTAINER_CLI_PACKAGE,
  version: DEVCONTAINER_CLI_VERSION,
  integrity: DEVCONTAINER_CLI_INTEGRITY,
};

/** Thrown when the tarball cannot be had, or is not the pinned one. */
export class PinnedTarballError extends FactoryError {}

/** The file name `npm pack` gives a package's tarball: `devcontainers-cli-0.89.0.tgz` for `@devcontainers/cli@0.89.0`. */
export function npmPackFileName(pkg: Pick<PinnedNpmPackage, 'name' | 'version'>): string {
  return `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;
}

const sha512Of = async (file: string) =>
  createHash('sha512')
    .update(await readFile(file))
    .digest('hex');

/**
 * The package's tarball in `cacheDir`: the one there when its SHA-512 is the pinned one,
 * else packed once with the `npm` on `PATH` (from the registry npm is configured with) and
 * checked before it is kept.
 * @throws PinnedTarballError when npm cannot fetch it, or fetches other bytes
 */
export async function pinnedNpmTarball(pkg: PinnedNpmPackage, cacheDir: string): Promise<string> {
  const name = npmPackFileName(pkg);
  const file = join(cacheDir, name);
  const expected = integritySha512Hex(pkg.integrity);
  if ((await sha512Of(file).catch(() => '')) === expected) return file;
  const partial = await mkdtemp(join(tmpdir(), 'dcf-npm-pack-'));
  try {
    try {
      await promisify(execFile)('npm', ['pack', '--silent', '--pack-destination', partial, `${pkg.name}@${pkg.version}`], { timeout: 240_000 });
    } catch (cause) {
      throw new PinnedTarballError(
        `npm could not fetch ${pkg.name}@${pkg.version} (${(cause as Error).message.split('\n')[0]}): run 'npm pack ${pkg.name}@${pkg.version}' where the npm registry is reachable and put ${name} into ${cacheDir}`,
        { cause },
      );
    }
    const actual = await sha512Of(join(partial, name));
    if (actual !== expected)
      throw new PinnedTarballError(`npm fetched a ${name} whose SHA-512 is not the pinned ${pkg.integrity}: check the registry npm is configured with`);
    await mkdir(cacheDir, { recursive: true });
    await rename(join(partial, name), file).catch(() => promisify(execFile)('mv', [join(partial, name), file]));
    return file;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}
