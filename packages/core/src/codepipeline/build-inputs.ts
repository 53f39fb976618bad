/**
 * The inputs of an image build besides its configuration: every base image it starts
 * from (`image` in devcontainer.json, each `FROM` of its Dockerfile with build args
 * resolved where they are static, the images of its compose services) and every
 * feature it uses (`features`), each resolved to the digest its reference names now.
 * Prepare puts them into the build id, so a moved base or feature gives a new build,
 * and records them on the index, so the next build can say what moved.
 */
import { parse as parseYaml } from 'yaml';
import { mapLimit } from '../concurrency';
import { dockerfileBases } from '../config/dockerfile';
import { substituteFactoryVariables, type FactoryVariableValues } from '../config/factory-variables';
import { InvalidConfigurationError, folderOf, resolveInside, type ConfigProblem } from '../config/files';
import { isDigest } from '../registry/digest';
import { parseImageReference } from '../registry/image-reference';
import { RegistryError, type Registry } from '../registry/registry';

/** `base` for an image the build starts from, `feature` for a feature it installs. */
export type BuildInputKind = 'base' | 'feature';

/** A reference the configuration names, with the factory variables substituted. */
export interface BuildInputReference {
  readonly kind: BuildInputKind;
  /** As the devcontainer CLI will pull it, e.g. `localhost:5000/devcontainers/features/hello:1`. */
  readonly reference: string;
}

/** A reference and the digest it named when Prepare ran. */
export interface ResolvedInput extends BuildInputReference {
  readonly digest: string;
}

/** Most inputs one configuration may have (bases and features together). */
export const MAX_BUILD_INPUTS = 64;
/** The index annotation that records a build's inputs (see {@link formatInputRecord}). */
export const INPUTS_ANNOTATION = 'dev.devcontainer-factory.inputs';

/** Thrown when an input cannot be resolved (missing, registry down, no access): nothing is built. */
export class BuildInputError extends RegistryError {}

/** What {@link buildInputReferences} reads: a parsed devcontainer.json, where it is, and the files it builds from. */
export interface ConfigurationFiles {
  readonly configPath: string;
  readonly config: Record<string, unknown>;
  /** Dockerfile and compose files by zip path. */
  readonly buildFiles: ReadonlyMap<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every base image and feature the configuration names, with `${localEnv:DCF_REGISTRY}`
 * and `${localEnv:DCF_NAMESPACE}` substituted; local features (`./…`) and tarball URLs
 * are part of the zip or pinned by their URL, not inputs.
 * @throws InvalidConfigurationError when a reference cannot be worked out statically
 * (another `${localEnv:…}`, a `FROM` whose variable has no value) or is not a reference
 */
export function buildInputReferences(files: ConfigurationFiles, values: FactoryVariableValues): BuildInputReference[] {
  const { config, configPath } = files;
  const problems: ConfigProblem[] = [];
  const refs: BuildInputReference[] = [];
  const substitute = (text: string, file: string, what: string): string | undefined => {
    const { text: out, unknown } = substituteFactoryVariables(text, values);
    if (unknown.length) {
      problems.push({ file, message: `${what} "${text}" uses \${localEnv:${unknown[0]}}: only \${localEnv:DCF_REGISTRY} and \${localEnv:DCF_NAMESPACE} have a value the factory knows` });
      return undefined;
    }
    return out;
  };
  const add = (kind: BuildInputKind, text: string, file: string, what: string) => {
    const reference = substitute(text, file, what);
    if (reference === undefined) return;
    if (!parseImageReference(reference)) {
      problems.push({ file, message: `${what} "${reference}" is not an image reference the factory can resolve: use registry/name[:tag][@sha256:digest]` });
      return;
    }
    refs.push({ kind, reference });
  };

  if (typeof config.image === 'string') add('base', config.image, configPath, '"image"');

  const build = isObject(config.build) ? config.build : undefined;
  const dockerfile = build?.dockerfile ?? config.dockerFile ?? config.dockerfile;
  if (typeof dockerfile === 'string') {
    const path = resolveInside(folderOf(configPath), dockerfile);
    const text = path === undefined ? undefined : files.buildFiles.get(path);
    if (path !== undefined && text !== undefined) {
      const args: Record<string, string> = {};
      for (const [name, value] of Object.entries(isObject(build?.args) ? build.args : {})) {
        if (typeof value !== 'string') continue;
        const substituted = substitute(value, configPath, `build arg ${name}`);
        if (substituted !== undefined) args[name] = substituted;
      }
      for (const from of dockerfileBases(text, args, path, problems)) add('base', from, path, 'FROM');
    }
  }

  const compose = config.dockerComposeFile;
  for (const file of (Array.isArray(compose) ? compose : [compose]).filter((f): f is string => typeof f === 'string')) {
    const path = resolveInside(folderOf(configPath), file);
    const text = path === undefined ? undefined : files.buildFiles.get(path);
    if (path === undefined || text === undefined) continue;
    let doc: unknown;
    try {
      doc = parseYaml(text, { maxAliasCount: 100 });
    } catch (cause) {
      problems.push({ file: path, message: `is not valid YAML: ${(cause as Error).message.split('\n')[0]}` });
      continue;
    }
    const services = isObject(doc) && isObject(doc.services) ? doc.services : {};
    for (const [name, service] of Object.entries(services)) {
      if (isObject(service) && typeof service.image === 'string') add('base', service.image, path, `the image of service ${name}`);
    }
  }

  if (isObject(config.features)) {
    for (const ref of Object.keys(config.features)) {
      if (ref.startsWith('./') || ref.startsWith('../') || /^https?:\/\//.test(ref)) continue;
      add('feature', ref, configPath, 'the feature');
    }
  }

  if (problems.length) throw new InvalidConfigurationError(problems);
  const unique = new Map(refs.map((r) => [`${r.kind} ${r.reference}`, r]));
  if (unique.size > MAX_BUILD_INPUTS) {
    throw new InvalidConfigurationError([{ file: configPath, message: `names ${unique.size} base images and features; the factory resolves at most ${MAX_BUILD_INPUTS} (MAX_BUILD_INPUTS)` }]);
  }
  return [...unique.values()].sort(compareInputs);
}

function compareInputs(a: BuildInputReference, b: BuildInputReference): number {
  const ka = `${a.kind} ${a.reference}`;
  const kb = `${b.kind} ${b.reference}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Resolves each reference to a digest: a pinned `@sha256:` as it is, a tag (default
 * `latest`) through the registry of its host (a `HEAD` where the client can: Docker Hub
 * does not count it against its pull limits).
 * @param registryFor the client of a registry host
 * @throws BuildInputError naming the reference when one cannot be resolved
 */
export async function resolveBuildInputs(references: readonly BuildInputReference[], registryFor: (host: string) => Registry): Promise<ResolvedInput[]> {
  return mapLimit(references, 8, async (input) => {
    const parsed = parseImageReference(input.reference)!;
    if (parsed.digest) return { ...input, digest: parsed.digest };
    const tag = parsed.tag ?? 'latest';
    const what = `${input.kind === 'base' ? 'base image' : 'feature'} ${input.reference}`;
    let digest: string | undefined;
    try {
      const registry = registryFor(parsed.host);
      digest = registry.manifestDigest
        ? await registry.manifestDigest(parsed.repository, tag)
        : (await registry.getManifest(parsed.repository, tag))?.digest;
    } catch (cause) {
      throw new BuildInputError(`cannot resolve the ${what} (${parsed.host}/${parsed.repository}:${tag}): ${(cause as Error).message}`, { cause });
    }
    if (!digest || !isDigest(digest)) {
      throw new BuildInputError(
        `the ${what} does not exist (${parsed.host} has no ${parsed.repository}:${tag}): publish it first, or fix the reference in the configuration`,
      );
    }
    return { ...input, digest };
  });
}

/** A build's recorded inputs: the configuration's digest and each resolved input. */
export interface InputRecord {
  /** `sha256:…` of the configuration zip. */
  readonly configuration: string;
  readonly inputs: readonly ResolvedInput[];
}

/**
 * The record as one line without quotes, as the index annotation {@link INPUTS_ANNOTATION}
 * holds it: `configuration@sha256:… base:<ref>@sha256:… feature:<ref>@sha256:…`.
 */
export function formatInputRecord(record: InputRecord): string {
  return [`configuration@${record.configuration}`, ...record.inputs.map((i) => `${i.kind}:${i.reference}@${i.digest}`)].join(' ');
}

/** Reads {@link formatInputRecord}'s line; undefined when it is not one. */
export function parseInputRecord(text: string | undefined): InputRecord | undefined {
  if (!text) return undefined;
  const [first, ...rest] = text.trim().split(/\s+/);
  const configuration = /^configuration@(sha256:[a-f0-9]{64})$/.exec(first)?.[1];
  if (!configuration) return undefined;
  const inputs: ResolvedInput[] = [];
  for (const entry of rest) {
    const m = /^(base|feature):(.+)@(sha256:[a-f0-9]{64})$/.exec(entry);
    if (!m) return undefined;
    inputs.push({ kind: m[1] as BuildInputKind, reference: m[2], digest: m[3] });
  }
  return { configuration, inputs };
}

/** The input record an image index carries ({@link INPUTS_ANNOTATION}); undefined when it has none. */
export function indexInputRecord(body: Buffer): InputRecord | undefined {
  try {
    const text = (JSON.parse(body.toString('utf8')) as { annotations?: Record<string, unknown> }).annotations?.[INPUTS_ANNOTATION];
    return parseInputRecord(typeof text === 'string' ? text : undefined);
  } catch {
    return undefined;
  }
}

/** Why a build differs from the one released before, one line per change ("base … moved to sha256:…"). */
export function inputChanges(previous: InputRecord | undefined, current: InputRecord): string[] {
  if (!previous) return [];
  const short = (d: string) => d.slice(0, 19);
  const changes: string[] = [];
  if (previous.configuration !== current.configuration) changes.push('the configuration changed');
  const before = new Map(previous.inputs.map((i) => [`${i.kind} ${i.reference}`, i]));
  const label = (i: BuildInputReference) => `${i.kind === 'base' ? 'base' : 'feature'} ${i.reference}`;
  for (const input of current.inputs) {
    const old = before.get(`${input.kind} ${input.reference}`);
    if (!old) changes.push(`${label(input)} is new (${short(input.digest)})`);
    else if (old.digest !== input.digest) changes.push(`${label(input)} moved to ${short(input.digest)} (from ${short(old.digest)})`);
    before.delete(`${input.kind} ${input.reference}`);
  }
  for (const gone of before.values()) changes.push(`${label(gone)} is no longer used`);
  return changes;
}
