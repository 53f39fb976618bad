/**
 * The inputs of an image build besides its configuration: every image the build pulls
 * (`image` in devcontainer.json; the `FROM`s of the stages its Dockerfile builds for its
 * target, with build args resolved where they are static, and the images those stages
 * copy from; the Dockerfile's `# syntax=` frontend; for a compose configuration, what the
 * dev container's service builds from) and every feature it installs (`features`, and
 * with a lockfile the features they depend on), each resolved to the digest the build
 * will use: the lockfile's when it locks the feature (as the devcontainer CLI installs
 * it), else the one its reference names now. Prepare puts them into the build id, so a
 * moved input gives a new build, and records them on the index, so the next build can
 * say what moved. `dcf validate` reads them with the same function, so what Prepare
 * refuses is refused before it is uploaded.
 */
import { mapLimit } from '../concurrency';
import { composeService, parseComposeEnvFile, type ComposeFile } from '../config/compose';
import { jsonLocator } from '../config/devcontainer-json';
import { dockerfileInputs } from '../config/dockerfile';
import { substituteFactoryVariables, type FactoryVariableValues } from '../config/factory-variables';
import { InvalidConfigurationError, folderOf, resolveInside, type ConfigProblem } from '../config-files';
import { lockfilePath, parseLockfile, type FeatureLockfile } from '../config/lockfile';
import { isDigest } from '../oci/names';
import { parseImageReference } from '../oci/image-reference';
import { RegistryError, type Registry } from '../oci/registry';

/** `base` for an image the build starts from or copies from, `frontend` for the Dockerfile's `# syntax=` image, `feature` for a feature it installs. */
export type BuildInputKind = 'base' | 'frontend' | 'feature';

/** A reference the configuration names, with the factory variables substituted. */
export interface BuildInputReference {
  readonly kind: BuildInputKind;
  /** As the devcontainer CLI will pull it, e.g. `localhost:5000/devcontainers/features/hello:1`. */
  readonly reference: string;
  /** The digest the configuration's lockfile pins it to: the one the build installs, whatever the tag names now. */
  readonly locked?: string;
}

/** An input as the configuration names it: where, and how. */
export interface ConfigurationInput extends BuildInputReference {
  /** As written in its file, before `${localEnv:…}`, ARG or compose substitution. */
  readonly written: string;
  /** The file of the configuration that names it. */
  readonly file: string;
  /** 1-based line in that file, when known. */
  readonly line?: number;
  /** True when the configuration fixes its digest: a `@sha256:` reference, or the lockfile. */
  readonly pinned: boolean;
}

/** A reference and the digest it named when Prepare ran. */
export interface ResolvedInput {
  readonly kind: BuildInputKind;
  readonly reference: string;
  readonly digest: string;
}

/** Most inputs one configuration may have (bases and features together). */
export const MAX_BUILD_INPUTS = 64;

/** Thrown when an input cannot be resolved (missing, registry down, no access): nothing is built. */
export class BuildInputError extends RegistryError {}

/** What {@link configurationInputs} reads: a parsed devcontainer.json, where it is, and the files it builds from. */
export interface ConfigurationFiles {
  readonly configPath: string;
  readonly config: Record<string, unknown>;
  /** The text of devcontainer.json, for the lines of what it names. */
  readonly configText?: string;
  /** The files it builds from, as text, by zip path ({@link configurationFilePaths}). */
  readonly buildFiles: ReadonlyMap<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Local features (`./…`) and tarball URLs are part of the zip or pinned by their URL: not inputs. */
const isLocalOrTarball = (ref: string) => ref.startsWith('./') || ref.startsWith('../') || /^https?:\/\//.test(ref);

/** The compose files devcontainer.json names, as zip paths inside the configuration. */
function composePaths(config: Record<string, unknown>, configPath: string): string[] {
  const compose = config.dockerComposeFile;
  return (Array.isArray(compose) ? compose : [compose])
    .filter((f): f is string => typeof f === 'string' && f !== '')
    .map((f) => resolveInside(folderOf(configPath), f))
    .filter((p): p is string => p !== undefined);
}

/** The Dockerfile of `build.dockerfile` (or the legacy `dockerFile`), as a zip path. */
function dockerfilePath(config: Record<string, unknown>, configPath: string): string | undefined {
  const build = isObject(config.build) ? config.build : undefined;
  const dockerfile = build?.dockerfile ?? config.dockerFile ?? config.dockerfile;
  return typeof dockerfile === 'string' && dockerfile !== '' ? resolveInside(folderOf(configPath), dockerfile) : undefined;
}

/** The local features' definitions (`./x` → `<dir>/x/devcontainer-feature.json`), as zip paths. */
function localFeatureDefinitionPaths(config: Record<string, unknown>, configPath: string): string[] {
  if (!isObject(config.features)) return [];
  return Object.keys(config.features)
    .filter((ref) => ref.startsWith('./') || ref.startsWith('../'))
    .map((ref) => resolveInside(folderOf(configPath), ref))
    .filter((p): p is string => p !== undefined)
    .map((folder) => `${folder}/devcontainer-feature.json`);
}

/**
 * The zip paths of the files {@link configurationInputs} reads, given those read so far:
 * the Dockerfile, the lockfile, the local features' definitions, the compose files and
 * their project's `.env`, and once the compose files are known, the Dockerfile of the dev
 * container's service. A reader calls it until it names nothing new (two rounds at most).
 */
export function configurationFilePaths(config: Record<string, unknown>, configPath: string, known: ReadonlyMap<string, string>): string[] {
  const compose = composePaths(config, configPath);
  const paths = [dockerfilePath(config, configPath), lockfilePath(configPath), ...localFeatureDefinitionPaths(config, configPath), ...compose];
  if (compose.length) {
    const project = folderOf(compose[0]);
    paths.push(project ? `${project}/.env` : '.env');
    const service = typeof config.service === 'string' ? composeService(composeFiles(compose, known), config.service, {}, []) : undefined;
    if (service?.build?.dockerfile !== undefined) paths.push(service.build.dockerfile);
  }
  return [...new Set(paths.filter((p): p is string => p !== undefined))];
}

/** Rounds of {@link readConfigurationFiles}: the first names the files, the second a compose service's Dockerfile. */
const MAX_BUILD_FILE_ROUNDS = 3;

/**
 * The files {@link configurationInputs} reads, read with `readMany` (which returns those
 * of the paths it is given that exist, as text) round by round until nothing new is named.
 */
export function readConfigurationFiles(
  config: Record<string, unknown>,
  configPath: string,
  readMany: (paths: ReadonlySet<string>) => ReadonlyMap<string, string>,
): Map<string, string> {
  const files = new Map<string, string>();
  const asked = new Set<string>();
  for (let round = 0; round < MAX_BUILD_FILE_ROUNDS; round++) {
    const wanted = new Set(configurationFilePaths(config, configPath, files).filter((p) => !asked.has(p)));
    if (wanted.size === 0) break;
    for (const path of wanted) asked.add(path);
    for (const [path, text] of readMany(wanted)) files.set(path, text);
  }
  return files;
}

function composeFiles(paths: readonly string[], known: ReadonlyMap<string, string>): ComposeFile[] {
  return paths.filter((p) => known.has(p)).map((path) => ({ path, text: known.get(path)! }));
}

/**
 * Every input the configuration names, where it names it, with `${localEnv:DCF_REGISTRY}`
 * and `${localEnv:DCF_NAMESPACE}` substituted; local features (`./…`) and tarball URLs
 * are part of the zip or pinned by their URL, not inputs.
 * @throws InvalidConfigurationError when a reference cannot be worked out statically
 * (another `${localEnv:…}`, a `FROM` whose variable has no value), is not a reference, or
 * the lockfile disagrees with devcontainer.json
 */
export function configurationInputs(files: ConfigurationFiles, values: FactoryVariableValues): ConfigurationInput[] {
  const { config, configPath } = files;
  const problems: ConfigProblem[] = [];
  const inputs: ConfigurationInput[] = [];
  const locate: (path: (string | number)[]) => { line?: number } = files.configText === undefined ? () => ({}) : jsonLocator(files.configText);
  const lineOf = (...path: (string | number)[]) => locate(path).line;
  const substitute = (text: string, file: string, line: number | undefined, what: string): string | undefined => {
    const { text: out, unknown } = substituteFactoryVariables(text, values);
    if (unknown.length) {
      problems.push({
        file,
        ...(line !== undefined && { line }),
        message: `${what} "${text}" uses \${localEnv:${unknown[0]}}: only \${localEnv:DCF_REGISTRY} and \${localEnv:DCF_NAMESPACE} have a value the factory knows`,
      });
      return undefined;
    }
    return out;
  };
  const add = (input: Omit<ConfigurationInput, 'reference' | 'pinned'> & { reference?: string }, what: string) => {
    const reference = input.reference ?? substitute(input.written, input.file, input.line, what);
    if (reference === undefined) return undefined;
    const parsed = parseImageReference(reference);
    if (!parsed) {
      problems.push({
        file: input.file,
        ...(input.line !== undefined && { line: input.line }),
        message: `${what} "${reference}" is not an image reference the factory can resolve: use registry/name[:tag][@sha256:digest]`,
      });
      return undefined;
    }
    const added: ConfigurationInput = { ...input, reference, pinned: parsed.digest !== undefined || input.locked !== undefined };
    inputs.push(added);
    return added;
  };
  const addDockerfile = (text: string, file: string, buildArgs: Readonly<Record<string, string>>, target: string | undefined) => {
    for (const from of dockerfileInputs(text, file, { buildArgs, ...(target !== undefined && { target }) }, problems)) {
      add(
        { kind: from.kind, written: from.written, reference: from.reference, file, line: from.line },
        from.kind === 'frontend' ? 'the # syntax= frontend' : 'FROM',
      );
    }
  };

  if (typeof config.image === 'string') add({ kind: 'base', written: config.image, file: configPath, line: lineOf('image') }, '"image"');

  const build = isObject(config.build) ? config.build : undefined;
  const dockerfile = dockerfilePath(config, configPath);
  const dockerfileText = dockerfile === undefined ? undefined : files.buildFiles.get(dockerfile);
  if (dockerfile !== undefined && dockerfileText !== undefined) {
    const args: Record<string, string> = {};
    for (const [name, value] of Object.entries(isObject(build?.args) ? build.args : {})) {
      if (typeof value !== 'string') continue;
      const substituted = substitute(value, configPath, lineOf('build', 'args', name), `build arg ${name}`);
      if (substituted !== undefined) args[name] = substituted;
    }
    const target = typeof build?.target === 'string' && build.target !== '' ? build.target : undefined;
    addDockerfile(dockerfileText, dockerfile, args, target);
  }

  const compose = composePaths(config, configPath);
  if (compose.length && typeof config.service === 'string') {
    const project = folderOf(compose[0]);
    const envText = files.buildFiles.get(project ? `${project}/.env` : '.env');
    const service = composeService(
      composeFiles(compose, files.buildFiles),
      config.service,
      envText === undefined ? {} : parseComposeEnvFile(envText),
      problems,
    );
    if (service?.build) {
      const text = service.build.dockerfileInline ?? (service.build.dockerfile === undefined ? undefined : files.buildFiles.get(service.build.dockerfile));
      const file = service.build.dockerfileInline !== undefined ? service.build.file : service.build.dockerfile;
      if (text === undefined || file === undefined) {
        problems.push({
          file: service.build.file,
          line: service.build.line,
          message: `the build of service ${service.name} names the Dockerfile ${service.build.dockerfile ?? '(none)'}, which is not in the configuration: add it or fix build.dockerfile, which is relative to build.context`,
        });
      } else {
        addDockerfile(text, file, service.build.args, service.build.target);
      }
    } else if (service?.image) {
      add(
        { kind: 'base', written: service.image.written, reference: service.image.reference, file: service.image.file, line: service.image.line },
        `the image of service ${service.name}`,
      );
    }
  }

  addFeatures(files, values, problems, lineOf, add);

  if (problems.length) throw new InvalidConfigurationError(problems);
  const unique = new Map<string, ConfigurationInput>();
  for (const input of inputs) if (!unique.has(`${input.kind} ${input.reference}`)) unique.set(`${input.kind} ${input.reference}`, input);
  if (unique.size > MAX_BUILD_INPUTS) {
    throw new InvalidConfigurationError([
      { file: configPath, message: `names ${unique.size} base images and features; the factory resolves at most ${MAX_BUILD_INPUTS} (MAX_BUILD_INPUTS)` },
    ]);
  }
  return [...unique.values()].sort(compareInputs);
}

/** The repository a feature reference names, without tag or digest: `ghcr.io/devcontainers/features/node`. */
function featureRepository(reference: string): string | undefined {
  const parsed = parseImageReference(reference);
  return parsed && `${parsed.host}/${parsed.repository}`;
}

/**
 * The features: each OCI feature of `features`; with a lockfile, each at the digest the
 * lockfile locks (as the devcontainer CLI installs it), and the features they depend on
 * that the lockfile locks too. A lockfile that disagrees with devcontainer.json (a feature
 * it does not lock, an entry of another feature, an entry nothing uses) is a problem:
 * the build would not install what the lockfile says.
 */
function addFeatures(
  files: ConfigurationFiles,
  values: FactoryVariableValues,
  problems: ConfigProblem[],
  lineOf: (...path: (string | number)[]) => number | undefined,
  add: (input: Omit<ConfigurationInput, 'reference' | 'pinned'> & { reference?: string }, what: string) => ConfigurationInput | undefined,
): void {
  const { config, configPath } = files;
  const lockPath = lockfilePath(configPath);
  const lockText = files.buildFiles.get(lockPath);
  const lockfile: FeatureLockfile | undefined = lockText === undefined ? undefined : parseLockfile(lockText, lockPath, problems);
  const fix = `run \`devcontainer upgrade --workspace-folder .\` to lock the features devcontainer.json names, or delete ${lockPath} to build with the features their tags name`;
  const used = new Set<string>();
  const pending: string[] = [];
  const lockedAs = (written: string, reference: string) =>
    lockfile?.features.has(reference) ? reference : lockfile?.features.has(written) ? written : undefined;
  for (const written of isObject(config.features) ? Object.keys(config.features) : []) {
    if (isLocalOrTarball(written)) continue;
    const line = lineOf('features', written);
    const reference = substituteFactoryVariables(written, values);
    if (reference.unknown.length || !lockfile) {
      add({ kind: 'feature', written, file: configPath, line }, 'the feature');
      continue;
    }
    const key = lockedAs(written, reference.text);
    const entry = key === undefined ? undefined : lockfile.features.get(key)!;
    if (!entry) {
      problems.push({
        file: configPath,
        ...(line !== undefined && { line }),
        message: `the feature "${written}" is not in the lockfile ${lockPath}: the devcontainer CLI would install whatever its tag names when the build runs; ${fix}`,
      });
      continue;
    }
    used.add(key!);
    if (featureRepository(entry.resolved) !== featureRepository(reference.text)) {
      problems.push({
        file: lockPath,
        ...(entry.line !== undefined && { line: entry.line }),
        message: `locks "${key}" to ${entry.resolved}, another feature: ${fix}`,
      });
      continue;
    }
    pending.push(...entry.dependsOn);
    add({ kind: 'feature', written, file: configPath, line, locked: entry.digest }, 'the feature');
  }
  if (!lockfile) return;
  // What the locked features depend on, as the lockfile locks it: the CLI installs those too.
  for (let key = pending.shift(); key !== undefined; key = pending.shift()) {
    const entry = lockfile.features.get(key);
    if (used.has(key) || !entry) continue;
    used.add(key);
    pending.push(...entry.dependsOn);
    add({ kind: 'feature', written: key, file: lockPath, line: entry.line, locked: entry.digest }, 'the locked dependency');
  }
  for (const [key, entry] of lockfile.features) {
    if (!used.has(key)) {
      problems.push({
        file: lockPath,
        ...(entry.line !== undefined && { line: entry.line }),
        message: `locks "${key}", which devcontainer.json does not use (nor does any feature it uses depend on it): ${fix}`,
      });
    }
  }
}

/**
 * Every base image and feature the configuration names ({@link configurationInputs}),
 * with the digest its lockfile pins where it pins one.
 * @throws InvalidConfigurationError as {@link configurationInputs} does
 */
export function buildInputReferences(files: ConfigurationFiles, values: FactoryVariableValues): BuildInputReference[] {
  return configurationInputs(files, values).map(({ kind, reference, locked }) => ({ kind, reference, ...(locked !== undefined && { locked }) }));
}

function compareInputs(a: BuildInputReference, b: BuildInputReference): number {
  const ka = `${a.kind} ${a.reference}`;
  const kb = `${b.kind} ${b.reference}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** How messages name an input of each kind. */
export const INPUT_KIND_NAMES: Readonly<Record<BuildInputKind, string>> = { base: 'base image', frontend: 'Dockerfile frontend', feature: 'feature' };

/**
 * Resolves each reference to a digest: the lockfile's when it locks one, a pinned
 * `@sha256:` as it is, a tag (default `latest`) through the registry of its host (a `HEAD` where the client can: Docker Hub
 * does not count it against its pull limits).
 * @param registryFor the client of a registry host
 * @throws BuildInputError naming the reference when one cannot be resolved
 */
export async function resolveBuildInputs(references: readonly BuildInputReference[], registryFor: (host: string) => Registry): Promise<ResolvedInput[]> {
  return mapLimit(references, 8, async (input): Promise<ResolvedInput> => {
    const parsed = parseImageReference(input.reference)!;
    if (input.locked !== undefined) return { kind: input.kind, reference: input.reference, digest: input.locked };
    if (parsed.digest) return { kind: input.kind, reference: input.reference, digest: parsed.digest };
    const tag = parsed.tag ?? 'latest';
    const what = `${INPUT_KIND_NAMES[input.kind]} ${input.reference}`;
    let digest: string | undefined;
    try {
      const registry = registryFor(parsed.host);
      digest = registry.manifestDigest ? await registry.manifestDigest(parsed.repository, tag) : (await registry.getManifest(parsed.repository, tag))?.digest;
    } catch (cause) {
      throw new BuildInputError(`cannot resolve the ${what} (${parsed.host}/${parsed.repository}:${tag}): ${(cause as Error).message}`, { cause });
    }
    if (!digest || !isDigest(digest)) {
      throw new BuildInputError(
        `the ${what} does not exist (${parsed.host} has no ${parsed.repository}:${tag}): publish it first, or fix the reference in the configuration`,
      );
    }
    return { kind: input.kind, reference: input.reference, digest };
  });
}

/** A build's recorded inputs: the configuration's digest and each resolved input. */
export interface InputRecord {
  /** `sha256:…` of the configuration zip. */
  readonly configuration: string;
  readonly inputs: readonly ResolvedInput[];
}

/** Why a build differs from the one released before, one line per change ("base … moved to sha256:…"). */
export function inputChanges(previous: InputRecord | undefined, current: InputRecord): string[] {
  if (!previous) return [];
  const short = (d: string) => d.slice(0, 19);
  const changes: string[] = [];
  if (previous.configuration !== current.configuration) changes.push('the configuration changed');
  const before = new Map(previous.inputs.map((i) => [`${i.kind} ${i.reference}`, i]));
  const label = (i: ResolvedInput) => `${i.kind} ${i.reference}`;
  for (const input of current.inputs) {
    const old = before.get(`${input.kind} ${input.reference}`);
    if (!old) changes.push(`${label(input)} is new (${short(input.digest)})`);
    else if (old.digest !== input.digest) changes.push(`${label(input)} moved to ${short(input.digest)} (from ${short(old.digest)})`);
    before.delete(`${input.kind} ${input.reference}`);
  }
  for (const gone of before.values()) changes.push(`${label(gone)} is no longer used`);
  return changes;
}
