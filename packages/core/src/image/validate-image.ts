/**
 * Checks an image configuration before it is uploaded or built: the
 * devcontainer.json parses (JSONC, as the devcontainer CLI reads it), names one
 * image source that exists, references features in a form the CLI accepts, and
 * carries a semantic version when it carries one at all. Every problem says
 * where it is and what to change.
 */
import type { JSONPath } from 'jsonc-parser';
import { configurationInputs, readConfigurationFiles, type ConfigurationInput } from './build-inputs';
import { checkFeatureOptions } from '../feature/feature-options';
import { DIGEST_SOURCE, HOST_SOURCE, PATH_COMPONENT_SOURCE, TAG_SOURCE } from '../oci/names';
import { isSemver } from '../semver';
import { DEVCONTAINER_JSON_PATHS, FACTORY_CUSTOMIZATION_KEY, IMAGE_TEST_SCRIPT, jsonLocator, parseJsonc } from '../config/devcontainer-json';
import { EXAMPLE_FACTORY_VALUES, FACTORY_VARIABLES, substituteFactoryVariables } from '../config/factory-variables';
import { InvalidConfigurationError, folderOf, resolveInside, type ConfigProblem, type FileSet } from '../config-files';

/** Tag or digest part of a reference: `:1.2`, `@sha256:…`. */
const TAG = `(?::${TAG_SOURCE})?(?:@${DIGEST_SOURCE})?`;
const PATH_COMPONENT = PATH_COMPONENT_SOURCE;
const HOST = HOST_SOURCE;
/** A container image reference: `[host[:port]/]path[:tag][@digest]`. */
const IMAGE_REFERENCE = new RegExp(`^(?:${HOST}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*${TAG}$`);
/** An OCI feature reference: `host/path/name[:tag][@digest]` (the registry is required). */
const FEATURE_REFERENCE = new RegExp(`^${HOST}/${PATH_COMPONENT}(?:/${PATH_COMPONENT})*${TAG}$`);

/** What a reference that names another `${localEnv:…}` is told. */
const FACTORY_VARIABLES_ONLY =
  `only \${localEnv:${FACTORY_VARIABLES.registry}} and \${localEnv:${FACTORY_VARIABLES.namespace}} are set by the factory ` +
  `(a build machine's own environment is not part of a reproducible build): name this factory's registry with them, or write the reference out`;

/**
 * A reference as the devcontainer CLI will see it where the factory builds: the
 * factory variables replaced by {@link EXAMPLE_FACTORY_VALUES}, so that its shape can be
 * checked; `problem` when it names any other `${localEnv:…}`.
 */
function portableReference(what: string, ref: string): { readonly text: string; readonly problem?: string } {
  const { text, unknown } = substituteFactoryVariables(ref, EXAMPLE_FACTORY_VALUES);
  if (unknown.length === 0) return { text };
  const names = [...new Set(unknown)].map((n) => `\${localEnv:${n}}`).join(', ');
  return { text, problem: `${what} "${ref}" uses ${names}: ${FACTORY_VARIABLES_ONLY}` };
}

/** The reference in lower case, but for its `${…}` variables, whose names are case-sensitive. */
function lowerCaseOutsideVariables(ref: string): string {
  return ref
    .split(/(\$\{[^}]*\})/)
    .map((part, i) => (i % 2 === 1 ? part : part.toLowerCase()))
    .join('');
}

const decoder = new TextDecoder('utf-8', { fatal: true });
/** How Prepare decodes the files a configuration builds from (image-source.ts). */
const lenientDecoder = new TextDecoder('utf-8');

/** Every problem of an image configuration; empty when it is valid. */
export function validateImageFiles(files: FileSet): readonly ConfigProblem[] {
  return checkImageFiles(files).problems;
}

/** What {@link checkImageFiles} finds. */
export interface ImageFilesCheck {
  /** Every problem; empty when the configuration is valid. */
  readonly problems: readonly ConfigProblem[];
  /**
   * The inputs a build would record, as Prepare reads them (with the example values of the
   * factory variables: `registry.example.com`, `devcontainers`); empty when there are problems.
   */
  readonly inputs: readonly ConfigurationInput[];
  /**
   * What the devcontainer CLI tolerates but is likely a mistake: options of a local feature
   * that its definition does not declare, a boolean given as "true", a value not in `enum`.
   */
  readonly warnings: readonly ConfigProblem[];
}

/**
 * The problems of an image configuration and, when it has none, the inputs its build
 * would record: read by Prepare's own function (`configurationInputs`), so whatever
 * Prepare would refuse is refused here first, with the same message, file and line.
 */
export function checkImageFiles(files: FileSet): ImageFilesCheck {
  const problems = imageFileProblems(files);
  const { warnings } = problems;
  if (problems.problems.length || !problems.config) return { problems: problems.problems, inputs: [], warnings };
  const { config, configPath, text } = problems.config;
  const buildFiles = readConfigurationFiles(config, configPath, (wanted) => {
    const found = new Map<string, string>();
    for (const path of wanted) {
      const bytes = files.get(path);
      if (bytes !== undefined) found.set(path, lenientDecoder.decode(bytes));
    }
    return found;
  });
  try {
    return { problems: [], inputs: configurationInputs({ configPath, config, configText: text, buildFiles }, EXAMPLE_FACTORY_VALUES), warnings };
  } catch (error) {
    if (!(error instanceof InvalidConfigurationError)) throw error;
    return { problems: error.problems, inputs: [], warnings };
  }
}

/** The checks of the configuration's own shape, and the parsed devcontainer.json when it parses. */
function imageFileProblems(files: FileSet): {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
  config?: { config: Record<string, unknown>; configPath: string; text: string };
} {
  const fail = (problems: ConfigProblem[]) => ({ problems, warnings: [] });
  if (files.size === 0) {
    return fail([
      {
        file: DEVCONTAINER_JSON_PATHS[0],
        message: `the configuration is empty: add ${DEVCONTAINER_JSON_PATHS[0]} (dcf init image <dir> writes a starting point)`,
      },
    ]);
  }
  const configPath = DEVCONTAINER_JSON_PATHS.find((p) => files.has(p));
  if (!configPath) return fail([missingConfigProblem(files)]);

  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const text = decodeText(files.get(configPath)!);
  if (text === undefined) {
    return fail([{ file: configPath, message: 'is not valid UTF-8 text: save it as UTF-8' }]);
  }
  const parsed = parseJsonc(text);
  if (!parsed.value) {
    // jsonc-parser can report the same error twice at one place (e.g. a missing brace that closes two objects).
    const unique = parsed.problems.filter((p, i, all) => all.findIndex((q) => q.line === p.line && q.column === p.column && q.message === p.message) === i);
    return fail(
      unique.map((p) => ({
        file: configPath,
        line: p.line,
        column: p.column,
        message: `${p.message}: fix the JSON syntax here (comments and trailing commas are allowed)`,
      })),
    );
  }
  const config = parsed.value;
  const locate = jsonLocator(text);
  const at = (path: JSONPath, message: string): ConfigProblem => ({ file: configPath, ...locate(path), message });
  const configDir = folderOf(configPath);

  checkSource(config, configDir, files, at, problems);
  checkFeatures(config, configDir, files, at, problems, warnings);
  checkFactoryCustomization(config, at, problems);
  checkTestProject(files, problems);
  return { problems, warnings, config: { config, configPath, text } };
}

type At = (path: JSONPath, message: string) => ConfigProblem;

function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}

function missingConfigProblem(files: FileSet): ConfigProblem {
  const elsewhere = [...files.keys()].filter((p) => p.endsWith('devcontainer.json') && p !== DEVCONTAINER_JSON_PATHS[0]);
  const hint = elsewhere.length
    ? `; found ${elsewhere.join(', ')}: the factory builds the configuration at the root of the folder, so move it to ${DEVCONTAINER_JSON_PATHS[0]}`
    : files.has('devcontainer-feature.json')
      ? '; this folder holds a feature (devcontainer-feature.json): push it with --kind feature'
      : ` (dcf init image <dir> writes a starting point)`;
  return { file: DEVCONTAINER_JSON_PATHS[0], message: `missing: add ${DEVCONTAINER_JSON_PATHS[0]} or ${DEVCONTAINER_JSON_PATHS[1]}${hint}` };
}

function folderExists(files: FileSet, folder: string): boolean {
  return folder === '' || [...files.keys()].some((p) => p.startsWith(`${folder}/`));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkSource(config: Record<string, unknown>, configDir: string, files: FileSet, at: At, problems: ConfigProblem[]): void {
  const sources: string[] = [];
  if ('image' in config) {
    sources.push('image');
    const image = config.image;
    if (typeof image !== 'string' || image.trim() === '') {
      problems.push(at(['image'], '"image" must be a non-empty string such as "mcr.microsoft.com/devcontainers/base:bookworm"'));
    } else {
      const portable = portableReference('the image', image);
      if (portable.problem) problems.push(at(['image'], portable.problem));
      // Other substitutions (`${localWorkspaceFolderBasename}`, …) are the devcontainer CLI's to resolve.
      else if (!portable.text.includes('${') && !IMAGE_REFERENCE.test(portable.text))
        problems.push(
          at(
            ['image'],
            `"${image}" is not a valid image reference: use [registry/]name[:tag][@sha256:digest] with a lowercase name, e.g. "mcr.microsoft.com/devcontainers/base:bookworm"`,
          ),
        );
    }
  }

  const build = config.build;
  const legacyDockerfile = config.dockerFile ?? config.dockerfile;
  if (build !== undefined && !isObject(build)) {
    problems.push(at(['build'], '"build" must be an object such as { "dockerfile": "Dockerfile" }'));
  }
  const dockerfileKey: JSONPath | undefined =
    isObject(build) && 'dockerfile' in build
      ? ['build', 'dockerfile']
      : legacyDockerfile !== undefined
        ? ['dockerFile' in config ? 'dockerFile' : 'dockerfile']
        : undefined;
  if (dockerfileKey) {
    sources.push('build.dockerfile');
    const dockerfile = isObject(build) && 'dockerfile' in build ? build.dockerfile : legacyDockerfile;
    if (typeof dockerfile !== 'string' || dockerfile === '') {
      problems.push(at(dockerfileKey, '"build.dockerfile" must be the path of a Dockerfile, relative to devcontainer.json'));
    } else {
      const resolved = resolveInside(configDir, dockerfile);
      if (resolved === undefined) {
        problems.push(
          at(dockerfileKey, `"${dockerfile}" points outside the configuration folder: only this folder is uploaded, so move the Dockerfile inside it`),
        );
      } else if (!files.has(resolved)) {
        problems.push(
          at(
            dockerfileKey,
            `the Dockerfile "${dockerfile}" does not exist (looked for ${resolved}): add it or fix the path, which is relative to devcontainer.json`,
          ),
        );
      }
    }
    const context = isObject(build) && 'context' in build ? build.context : config.context;
    const contextKey: JSONPath = isObject(build) && 'context' in build ? ['build', 'context'] : ['context'];
    if (context !== undefined) {
      if (typeof context !== 'string') {
        problems.push(at(contextKey, '"build.context" must be a folder path relative to devcontainer.json, e.g. ".."'));
      } else {
        const resolved = resolveInside(configDir, context);
        if (resolved === undefined) {
          problems.push(
            at(
              contextKey,
              `the build context "${context}" points outside the configuration folder: only this folder is uploaded, so use a context inside it (".." from .devcontainer is the root)`,
            ),
          );
        } else if (!folderExists(files, resolved)) {
          problems.push(at(contextKey, `the build context "${context}" (${resolved}) holds no files: fix the path, which is relative to devcontainer.json`));
        }
      }
    }
  } else if (isObject(build)) {
    sources.push('build.dockerfile');
    problems.push(at(['build'], '"build" has no "dockerfile": add "dockerfile": "Dockerfile" or use "image" instead'));
  }

  if ('dockerComposeFile' in config) {
    sources.push('dockerComposeFile');
    const compose = config.dockerComposeFile;
    const list = typeof compose === 'string' ? [compose] : Array.isArray(compose) ? compose : undefined;
    if (!list || list.length === 0 || list.some((f) => typeof f !== 'string' || f === '')) {
      problems.push(at(['dockerComposeFile'], '"dockerComposeFile" must be a path or a list of paths of compose files, relative to devcontainer.json'));
    } else {
      list.forEach((file: string, i: number) => {
        const key: JSONPath = typeof compose === 'string' ? ['dockerComposeFile'] : ['dockerComposeFile', i];
        const resolved = resolveInside(configDir, file);
        if (resolved === undefined)
          problems.push(at(key, `"${file}" points outside the configuration folder: only this folder is uploaded, so move the compose file inside it`));
        else if (!files.has(resolved))
          problems.push(
            at(key, `the compose file "${file}" does not exist (looked for ${resolved}): add it or fix the path, which is relative to devcontainer.json`),
          );
      });
    }
    if (typeof config.service !== 'string' || config.service === '') {
      problems.push(at(['service'], '"service" is required with "dockerComposeFile": name the compose service the dev container runs in'));
    }
  }

  if (sources.length === 0) {
    problems.push(
      at(
        [],
        'no image source: set "image" (e.g. "mcr.microsoft.com/devcontainers/base:bookworm"), "build": { "dockerfile": "Dockerfile" } or "dockerComposeFile"',
      ),
    );
  } else if (sources.length > 1) {
    problems.push(at([sources[1] === 'build.dockerfile' ? 'build' : sources[1]], `more than one image source (${sources.join(', ')}): keep only one`));
  }
}

function checkFeatures(config: Record<string, unknown>, configDir: string, files: FileSet, at: At, problems: ConfigProblem[], warnings: ConfigProblem[]): void {
  if (!('features' in config)) return;
  const features = config.features;
  if (!isObject(features)) {
    problems.push(
      at(['features'], '"features" must be an object that maps feature references to their options, e.g. { "ghcr.io/devcontainers/features/node:1": {} }'),
    );
    return;
  }
  for (const [ref, options] of Object.entries(features)) {
    const key: JSONPath = ['features', ref];
    const problem = featureReferenceProblem(ref, configDir, files);
    if (problem) problems.push(at(key, problem));
    if (!(isObject(options) || typeof options === 'string' || typeof options === 'boolean')) {
      problems.push(at(key, `the options of "${ref}" must be an object ({ "version": "latest" }), a version string or true`));
    } else if (!problem) {
      checkLocalFeatureOptions(ref, options, configDir, files, (severity, message) => (severity === 'error' ? problems : warnings).push(at(key, message)));
    }
  }
}

/**
 * The options given to a local feature (`./x`), against its definition in the
 * configuration (`checkFeatureOptions`): what the devcontainer CLI fails on is a problem,
 * what it tolerates a warning. OCI features' definitions are not in the folder.
 */
function checkLocalFeatureOptions(
  ref: string,
  options: unknown,
  configDir: string,
  files: FileSet,
  report: (severity: 'error' | 'warning', message: string) => void,
): void {
  if (!ref.startsWith('./') && !ref.startsWith('../')) return;
  const folder = resolveInside(configDir, ref);
  const bytes = folder === undefined ? undefined : files.get(`${folder}/devcontainer-feature.json`);
  const text = bytes === undefined ? undefined : decodeText(bytes);
  const definition = text === undefined ? undefined : parseJsonc(text).value;
  if (!definition) return;
  for (const p of checkFeatureOptions(ref, definition, options)) report(p.severity, p.message);
}

function featureReferenceProblem(ref: string, configDir: string, files: FileSet): string | undefined {
  if (ref.startsWith('./') || ref.startsWith('../')) {
    const folder = resolveInside(configDir, ref);
    if (folder === undefined) return `the local feature "${ref}" points outside the configuration folder: move it inside .devcontainer/`;
    if (!files.has(`${folder}/devcontainer-feature.json`))
      return `the local feature "${ref}" has no ${folder}/devcontainer-feature.json: add it or fix the path, which is relative to devcontainer.json`;
    return undefined;
  }
  const portable = portableReference('the feature', ref);
  if (portable.problem) return portable.problem;
  const resolved = portable.text;
  if (/^https?:\/\//.test(resolved)) {
    if (!resolved.startsWith('https://')) return `"${ref}" is fetched over plain http: use an https:// URL`;
    let pathname: string;
    try {
      pathname = new URL(resolved).pathname;
    } catch {
      return `"${ref}" is not a valid URL: use an https:// URL of a .tgz feature tarball`;
    }
    if (!/\.tgz$|\.tar\.gz$/.test(pathname)) return `"${ref}" is not a feature tarball: a URL reference must end with .tgz`;
    return undefined;
  }
  if (!resolved.includes('/')) {
    return `"${ref}" is a deprecated short feature id: use a full OCI reference such as "ghcr.io/devcontainers/features/${ref.split(/[:@]/)[0]}:1"`;
  }
  if (!FEATURE_REFERENCE.test(resolved)) {
    const lowered = lowerCaseOutsideVariables(ref);
    const lower = ref !== lowered ? ` (names are lowercase: "${lowered}")` : '';
    return `"${ref}" is not a valid feature reference: use registry/namespace/feature[:version] such as "ghcr.io/devcontainers/features/node:1", a local "./folder" or an https .tgz URL${lower}`;
  }
  return undefined;
}

function checkFactoryCustomization(config: Record<string, unknown>, at: At, problems: ConfigProblem[]): void {
  const customizations = config.customizations;
  if (customizations === undefined) return;
  if (!isObject(customizations)) {
    problems.push(at(['customizations'], '"customizations" must be an object'));
    return;
  }
  if (!(FACTORY_CUSTOMIZATION_KEY in customizations)) return;
  const mine = customizations[FACTORY_CUSTOMIZATION_KEY];
  const path: JSONPath = ['customizations', FACTORY_CUSTOMIZATION_KEY];
  if (!isObject(mine)) {
    problems.push(at(path, `"customizations.${FACTORY_CUSTOMIZATION_KEY}" must be an object such as { "version": "1.0.0" }`));
    return;
  }
  if (!('version' in mine)) return;
  const version = mine.version;
  if (typeof version !== 'string') {
    problems.push(at([...path, 'version'], `the version must be a string such as "1.0.0", not ${JSON.stringify(version)}`));
  } else if (!isSemver(version)) {
    const hint = version.includes('+')
      ? ': build metadata (+…) cannot be part of a registry tag, so remove it'
      : version.startsWith('v')
        ? `: drop the "v" ("${version.slice(1)}")`
        : '';
    problems.push(
      at(
        [...path, 'version'],
        `"${version}" is not a semantic version: use MAJOR.MINOR.PATCH such as "1.2.3" (optionally with a pre-release, "1.2.3-rc.1")${hint}`,
      ),
    );
  }
}

function checkTestProject(files: FileSet, problems: ConfigProblem[]): void {
  const folder = IMAGE_TEST_SCRIPT.slice(0, IMAGE_TEST_SCRIPT.indexOf('/'));
  if (!files.has(IMAGE_TEST_SCRIPT) && folderExists(files, folder)) {
    problems.push({
      file: IMAGE_TEST_SCRIPT,
      message: `${folder}/ has no test.sh: add ${IMAGE_TEST_SCRIPT}, which the Test stage runs inside the image, or remove the folder`,
    });
  }
}
