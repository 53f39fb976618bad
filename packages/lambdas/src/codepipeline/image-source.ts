/**
 * What the Prepare action reads from an uploaded image configuration (the source
 * zip): its `devcontainer.json`, for the optional version, and whether it carries
 * its own tests. Only those entries are inflated; a zip of any size is hashed,
 * not unpacked.
 */
import { unzipSync } from 'fflate';
import { DEVCONTAINER_JSON_PATHS, IMAGE_TEST_SCRIPT, factoryCustomization, parseJsonc } from '../config/devcontainer-json';
import { InvalidConfigurationError } from '../config/files';
import { isSemver } from '../semver';

/** What the pipeline needs to know about a configuration before it builds it. */
export interface ImageSource {
  /** Which `devcontainer.json` the devcontainer CLI will use. */
  readonly configPath: (typeof DEVCONTAINER_JSON_PATHS)[number];
  /** `customizations["devcontainer-factory"].version`, when set. */
  readonly version?: string;
  /** True when the zip holds `test-project/test.sh`. */
  readonly hasTests: boolean;
}

/**
 * Reads an image configuration zip.
 * @throws InvalidConfigurationError when it is not a zip, has no `devcontainer.json`,
 * the file is not valid JSONC, or the version is not a semantic version
 */
export function readImageSource(zip: Uint8Array): ImageSource {
  const wanted = new Set<string>([...DEVCONTAINER_JSON_PATHS, IMAGE_TEST_SCRIPT]);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter: (file) => wanted.has(file.name.replace(/^\.\//, '')) });
  } catch (cause) {
    throw new InvalidConfigurationError([{ file: '(source zip)', message: `is not a readable zip (${(cause as Error).message}): upload it again with dcf push` }], { cause });
  }
  const byPath = new Map(Object.entries(entries).map(([name, bytes]) => [name.replace(/^\.\//, ''), bytes]));
  const configPath = DEVCONTAINER_JSON_PATHS.find((p) => byPath.has(p));
  if (!configPath) {
    throw new InvalidConfigurationError([
      { file: DEVCONTAINER_JSON_PATHS[0], message: `is missing: the zip must hold ${DEVCONTAINER_JSON_PATHS.join(' or ')} at its root (dcf push packs the folder that contains .devcontainer/)` },
    ]);
  }
  const text = new TextDecoder('utf-8').decode(byPath.get(configPath));
  const parsed = parseJsonc(text);
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
  return { configPath, ...(version !== undefined ? { version } : {}), hasTests: byPath.has(IMAGE_TEST_SCRIPT) };
}
