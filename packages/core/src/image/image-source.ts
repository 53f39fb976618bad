/**
 * What the Prepare action reads from an uploaded image configuration (the source
 * zip): its `devcontainer.json`, for the optional version, and whether it carries
 * its own tests. The zip is read by {@link readZip}, the one reader of uploaded
 * zips, with its rules and limits: every entry is checked, only those two are kept.
 */
import { UnsafeArchiveError } from '../archive/archive-content';
import { readZip, type ReadZipOptions } from '../archive/read-zip';
import { DEVCONTAINER_JSON_PATHS, IMAGE_TEST_SCRIPT, factoryCustomization, parseJsonc } from '../config/devcontainer-json';
import { InvalidConfigurationError } from '../config-files';
import { isSemver } from '../semver';
import { readConfigurationFiles } from './build-inputs';

/** What the pipeline needs to know about a configuration before it builds it. */
export interface ImageSource {
  /** Which `devcontainer.json` the devcontainer CLI will use. */
  readonly configPath: (typeof DEVCONTAINER_JSON_PATHS)[number];
  /** `customizations["devcontainer-factory"].version`, when set. */
  readonly version?: string;
  /** True when the zip holds `test-project/test.sh`. */
  readonly hasTests: boolean;
  /** The parsed `devcontainer.json`. */
  readonly config: Record<string, unknown>;
  /** The text of `devcontainer.json`. */
  readonly configText: string;
  /**
   * The files the configuration builds from, by path in the zip, as text, when they
   * exist: its Dockerfile, lockfile, local features' definitions, compose files with their
   * `.env`, and the Dockerfile of the dev container's compose service
   * (`configurationFilePaths`).
   */
  readonly buildFiles: ReadonlyMap<string, string>;
}

/** Where whole-zip problems are reported. */
const SOURCE_ZIP = '(source zip)';

/**
 * Reads an image configuration zip.
 * @param limits the reader's limits (entries, sizes, compression ratio)
 * @throws UnsafeArchiveError when it is not a zip, or holds an unsafe entry or
 * more than a limit allows
 * @throws InvalidConfigurationError when it has no `devcontainer.json`,
 * the file is not valid JSONC, or the version is not a semantic version
 */
export function readImageSource(zip: Uint8Array, limits: Omit<ReadZipOptions, 'select'> = {}): ImageSource {
  const byPath = readSelected(zip, limits, new Set<string>([...DEVCONTAINER_JSON_PATHS, IMAGE_TEST_SCRIPT]));
  const configPath = DEVCONTAINER_JSON_PATHS.find((p) => byPath.has(p));
  if (!configPath) {
    throw new InvalidConfigurationError([
      {
        file: DEVCONTAINER_JSON_PATHS[0],
        message: `is missing: the zip must hold ${DEVCONTAINER_JSON_PATHS.join(' or ')} at its root (dcf push packs the folder that contains .devcontainer/)`,
      },
    ]);
  }
  const decoder = new TextDecoder('utf-8');
  const configText = decoder.decode(byPath.get(configPath));
  const parsed = parseJsonc(configText);
  if (!parsed.value) {
    throw new InvalidConfigurationError(parsed.problems.map((p) => ({ file: configPath, line: p.line, column: p.column, message: p.message })));
  }
  const { version } = factoryCustomization(parsed.value);
  const rawVersion = (parsed.value.customizations as Record<string, Record<string, unknown>> | undefined)?.['devcontainer-factory']?.version;
  if (rawVersion !== undefined && typeof rawVersion !== 'string') {
    throw new InvalidConfigurationError([
      { file: configPath, message: `customizations["devcontainer-factory"].version must be a string such as "1.2.3" (got ${JSON.stringify(rawVersion)})` },
    ]);
  }
  if (version !== undefined && !isSemver(version)) {
    throw new InvalidConfigurationError([
      { file: configPath, message: `customizations["devcontainer-factory"].version '${version}' is not a semantic version: use X.Y.Z, e.g. "1.2.3"` },
    ]);
  }
  // More passes for the files it builds from: their paths are known only now, and a compose
  // service's Dockerfile only once the compose files are read.
  const buildFiles = readConfigurationFiles(
    parsed.value,
    configPath,
    (wanted) => new Map([...readSelected(zip, limits, wanted)].map(([path, bytes]) => [path, decoder.decode(bytes)])),
  );
  return { configPath, ...(version !== undefined ? { version } : {}), hasTests: byPath.has(IMAGE_TEST_SCRIPT), config: parsed.value, configText, buildFiles };
}

/** The zip's entries whose paths are in `wanted`; every entry is still checked. */
function readSelected(zip: Uint8Array, limits: Omit<ReadZipOptions, 'select'>, wanted: ReadonlySet<string>): ReadonlyMap<string, Uint8Array> {
  try {
    return readZip(zip, { ...limits, select: (path) => wanted.has(path) }).files;
  } catch (cause) {
    if (!(cause instanceof UnsafeArchiveError)) throw cause;
    const problems = cause.problems.map((p) =>
      p.file !== '.'
        ? p
        : {
            ...p,
            file: SOURCE_ZIP,
            message: !p.message.startsWith('not a readable zip')
              ? p.message
              : `is ${p.message}${p.message.includes('dcf pack') ? '' : ': upload it again with dcf push'}`,
          },
    );
    // The same error, renamed for the pipeline: keep what caused it, not a second copy of its problems.
    throw new UnsafeArchiveError(problems, { cause: cause.cause });
  }
}
