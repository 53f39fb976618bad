/**
 * The factory's catalogue: which images and features get a pipeline, and the
 * per-image settings that must be known at deploy time. It comes from CDK context
 * (`-c namespace=… -c images=a,b -c features=c`) and an optional catalogue file
 * (`-c catalog=FILE`, JSON or YAML); the two merge.
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_NAMESPACE, idProblem, namespaceProblem } from '@devcontainer-factory/lambdas';

export const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export const COMPUTE_SIZES = ['small', 'medium', 'large', 'xlarge', '2xlarge'] as const;
export const FEATURE_COMPUTE_SIZES = ['small', 'medium', 'large'] as const;
export const RELEASE_TAG_RULES = ['latest', 'semver', 'date'] as const;

export type Platform = (typeof PLATFORMS)[number];
export type ComputeSize = (typeof COMPUTE_SIZES)[number];
export type FeatureComputeSize = (typeof FEATURE_COMPUTE_SIZES)[number];
export type ReleaseTagRule = (typeof RELEASE_TAG_RULES)[number];

export interface ImageEntry {
  readonly id: string;
  readonly platforms?: Platform[];
  readonly computeSize?: ComputeSize;
  readonly dependsOn?: string[];
  readonly releaseTags?: ReleaseTagRule[];
}

export interface FeatureEntry {
  readonly id: string;
  readonly computeSize?: FeatureComputeSize;
}

export interface Catalog {
  readonly namespace: string;
  readonly images: ImageEntry[];
  readonly features: FeatureEntry[];
}

/** The example catalogue used when neither context nor a catalogue file names images or features. */
export const DEFAULT_IMAGES = ['python', 'node'];
export const DEFAULT_FEATURES = ['hello'];

/** Thrown for any bad catalogue input; the message names the value and the rule. */
export class CatalogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogError';
  }
}

/** Reads context values (as `app.node.tryGetContext` gives them). */
export type ContextReader = (key: string) => unknown;

const IMAGE_KEYS = ['id', 'platforms', 'computeSize', 'dependsOn', 'releaseTags'] as const;
const FEATURE_KEYS = ['id', 'computeSize'] as const;
const FILE_KEYS = ['namespace', 'images', 'features'] as const;

/** Builds the catalogue from context and the optional catalogue file; throws {@link CatalogError}. */
export function readCatalog(context: ContextReader, cwd = process.cwd()): Catalog {
  const catalogPath = optionalString(context('catalog'), 'catalog');
  const file = catalogPath ? readCatalogFile(resolve(cwd, catalogPath)) : undefined;
  const where = catalogPath ? `catalogue file ${catalogPath}` : '';

  const namespace = optionalString(context('namespace'), 'namespace') ?? file?.namespace ?? DEFAULT_NAMESPACE;
  const nsProblem = namespaceProblem(namespace);
  if (nsProblem) throw new CatalogError(`${nsProblem}. Pass a valid one with -c namespace=NAME.`);

  const contextImages = listFromContext(context('images'), 'images');
  const contextFeatures = listFromContext(context('features'), 'features');
  const useDefaults = !file && contextImages === undefined && contextFeatures === undefined;

  const images = mergeEntries<ImageEntry>(
    'image',
    contextImages ?? (useDefaults ? DEFAULT_IMAGES : []),
    file?.images ?? [],
    where,
  );
  const features = mergeEntries<FeatureEntry>(
    'feature',
    contextFeatures ?? (useDefaults ? DEFAULT_FEATURES : []),
    file?.features ?? [],
    where,
  );
  checkDependencies(images);
  return { namespace, images, features };
}

interface CatalogFile {
  namespace?: string;
  images?: ImageEntry[];
  features?: FeatureEntry[];
}

/** Parses and checks a catalogue file (`.json`, `.yaml` or `.yml`). */
export function readCatalogFile(path: string): CatalogFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CatalogError(`cannot read catalogue file ${path}: ${(cause as Error).message}`, { cause });
  }
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new CatalogError(`catalogue file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(cause as Error).message}`, { cause });
  }
  if (raw === null || raw === undefined) return {};
  const top = asObject(raw, `catalogue file ${path}`);
  checkKeys(top, FILE_KEYS, `catalogue file ${path}`);
  const out: CatalogFile = {};
  if (top.namespace !== undefined) out.namespace = stringValue(top.namespace, `'namespace' in ${path}`);
  if (top.images !== undefined) out.images = arrayValue(top.images, `'images' in ${path}`).map((e, i) => imageEntry(e, `images[${i}] in ${path}`));
  if (top.features !== undefined) {
    out.features = arrayValue(top.features, `'features' in ${path}`).map((e, i) => featureEntry(e, `features[${i}] in ${path}`));
  }
  return out;
}

function imageEntry(raw: unknown, where: string): ImageEntry {
  if (typeof raw === 'string') return { id: raw };
  const o = asObject(raw, where);
  checkKeys(o, IMAGE_KEYS, where);
  const id = stringValue(o.id, `'id' of ${where}`);
  return {
    id,
    ...(o.platforms !== undefined && { platforms: enumList(o.platforms, PLATFORMS, `'platforms' of image '${id}'`) }),
    ...(o.computeSize !== undefined && { computeSize: enumValue(o.computeSize, COMPUTE_SIZES, `'computeSize' of image '${id}'`) }),
    ...(o.dependsOn !== undefined && { dependsOn: arrayValue(o.dependsOn, `'dependsOn' of image '${id}'`).map((d) => stringValue(d, `'dependsOn' of image '${id}'`)) }),
    ...(o.releaseTags !== undefined && { releaseTags: enumList(o.releaseTags, RELEASE_TAG_RULES, `'releaseTags' of image '${id}'`) }),
  };
}

function featureEntry(raw: unknown, where: string): FeatureEntry {
  if (typeof raw === 'string') return { id: raw };
  const o = asObject(raw, where);
  checkKeys(o, FEATURE_KEYS, where);
  const id = stringValue(o.id, `'id' of ${where}`);
  return {
    id,
    ...(o.computeSize !== undefined && { computeSize: enumValue(o.computeSize, FEATURE_COMPUTE_SIZES, `'computeSize' of feature '${id}'`) }),
  };
}

/** Context ids first, in their order; file entries add settings (and ids). Duplicates within one source fail. */
function mergeEntries<T extends { id: string }>(kind: 'image' | 'feature', fromContext: string[], fromFile: T[], fileWhere: string): T[] {
  const seen = new Set<string>();
  for (const id of fromContext) {
    const problem = idProblem(id, `${kind} id`);
    if (problem) throw new CatalogError(`${problem}. Fix it in -c ${kind}s=…`);
    if (seen.has(id)) throw new CatalogError(`duplicate ${kind} id '${id}' in -c ${kind}s=…: list each ${kind} once`);
    seen.add(id);
  }
  const fileIds = new Set<string>();
  for (const e of fromFile) {
    const problem = idProblem(e.id, `${kind} id`);
    if (problem) throw new CatalogError(`${problem}. Fix it in the ${fileWhere}`);
    if (fileIds.has(e.id)) throw new CatalogError(`duplicate ${kind} id '${e.id}' in the ${fileWhere}: list each ${kind} once`);
    fileIds.add(e.id);
  }
  const byId = new Map(fromFile.map((e) => [e.id, e]));
  const merged: T[] = fromContext.map((id) => byId.get(id) ?? ({ id } as T));
  for (const e of fromFile) if (!seen.has(e.id)) merged.push(e);
  return merged;
}

function checkDependencies(images: ImageEntry[]): void {
  const ids = new Set(images.map((i) => i.id));
  for (const image of images) {
    for (const dep of image.dependsOn ?? []) {
      if (dep === image.id) throw new CatalogError(`image '${image.id}' lists itself in dependsOn: an image cannot be its own base`);
      if (!ids.has(dep)) {
        throw new CatalogError(`image '${image.id}' dependsOn unknown image '${dep}': add '${dep}' to the catalogue or remove it from dependsOn (known: ${[...ids].join(', ') || 'none'})`);
      }
    }
  }
  // Depth-first search for a cycle, reporting its path.
  const state = new Map<string, 'visiting' | 'done'>();
  const deps = new Map(images.map((i) => [i.id, i.dependsOn ?? []]));
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(id)), id];
      throw new CatalogError(`dependsOn has a cycle: ${cycle.join(' -> ')}; an image cannot (indirectly) be built on itself`);
    }
    state.set(id, 'visiting');
    for (const d of deps.get(id) ?? []) visit(d, [...path, id]);
    state.set(id, 'done');
  };
  for (const image of images) visit(image.id, []);
}

function listFromContext(value: unknown, key: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => stringValue(v, `-c ${key}`).trim()).filter((v) => v.length > 0);
  if (typeof value !== 'string') throw new CatalogError(`-c ${key} must be a comma-separated list of ids, got ${JSON.stringify(value)}`);
  return value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
}

function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new CatalogError(`-c ${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function asObject(raw: unknown, where: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CatalogError(`${where} must be an object (a mapping), got ${JSON.stringify(raw)}`);
  return raw as Record<string, unknown>;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new CatalogError(`unknown key '${key}' in ${where}: allowed keys are ${allowed.join(', ')}`);
  }
}

function stringValue(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new CatalogError(`${where} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function arrayValue(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new CatalogError(`${where} must be a list, got ${JSON.stringify(v)}`);
  return v;
}

function enumValue<T extends string>(v: unknown, allowed: readonly T[], where: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new CatalogError(`${where} is ${JSON.stringify(v)}: use one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function enumList<T extends string>(v: unknown, allowed: readonly T[], where: string): T[] {
  const list = arrayValue(v, where).map((x) => enumValue(x, allowed, where));
  if (list.length === 0) throw new CatalogError(`${where} must not be empty: use one or more of ${allowed.join(', ')}`);
  const dup = list.find((x, i) => list.indexOf(x) !== i);
  if (dup) throw new CatalogError(`${where} lists '${dup}' twice`);
  return list;
}
