/**
 * The catalogue `dcf local` runs: the factory app's catalogue file (`namespace`,
 * `images`, `features`; JSON or YAML), with each configuration in a folder next
 * to it: `images/<id>/` and `features/<id>/`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_NAMESPACE, idProblem, namespaceProblem } from '@devcontainer-factory/lambdas';

/** The release tag rules an image of the catalogue may choose. */
export const RELEASE_TAG_RULES = ['latest', 'semver', 'date'] as const;
export type ReleaseTagRule = (typeof RELEASE_TAG_RULES)[number];

/** Names `dcf local run <dir>` looks for in a folder, in this order. */
export const CATALOG_FILE_NAMES = ['catalog.yaml', 'catalog.yml', 'catalog.json'] as const;

export interface LocalImageEntry {
  readonly id: string;
  /** Absolute path of the configuration folder. */
  readonly dir: string;
  /** Ids of the catalogue images this one builds on (their `latest` is part of its build id). */
  readonly dependsOn: readonly string[];
  readonly releaseTags: readonly ReleaseTagRule[];
  /** The platforms the catalogue asks for (`dcf local` builds the host's only). */
  readonly platforms: readonly string[];
}

export interface LocalFeatureEntry {
  readonly id: string;
  /** Absolute path of the configuration folder. */
  readonly dir: string;
}

export interface LocalCatalog {
  /** The catalogue file. */
  readonly file: string;
  readonly namespace: string;
  /** In build order: every image after the images it depends on. */
  readonly images: readonly LocalImageEntry[];
  readonly features: readonly LocalFeatureEntry[];
}

/** Thrown for a catalogue that cannot be read or is wrong; the message names the file, the entry and the fix. */
export class LocalCatalogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalCatalogError';
  }
}

const ALL_PLATFORMS = ['linux/amd64', 'linux/arm64'];

/** The catalogue file of a path: the file itself, or `catalog.yaml|yml|json` in a folder. */
export function catalogFileOf(path: string): string {
  if (!existsSync(path)) throw new LocalCatalogError(`'${path}' does not exist: pass a catalogue file (e.g. examples/catalog.yaml) or the folder that holds one`);
  if (!statSync(path).isDirectory()) return path;
  const found = CATALOG_FILE_NAMES.map((n) => join(path, n)).find((f) => existsSync(f));
  if (!found) throw new LocalCatalogError(`'${path}' holds no ${CATALOG_FILE_NAMES.join(', ')}: write one (see examples/catalog.yaml) or pass the file`);
  return found;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new LocalCatalogError(`${where} must be a list of strings`);
  return v as string[];
}

function entry(raw: unknown, kind: 'image' | 'feature', index: number, file: string, keys: readonly string[]): Record<string, unknown> & { id: string } {
  const where = `${kind}s[${index}] in ${file}`;
  const o = typeof raw === 'string' ? { id: raw } : raw;
  if (!isObject(o) || typeof o.id !== 'string') throw new LocalCatalogError(`${where} must be an id or an object with an "id"`);
  const unknown = Object.keys(o).filter((k) => !keys.includes(k));
  if (unknown.length) throw new LocalCatalogError(`${where} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: allowed are ${keys.join(', ')}`);
  const problem = idProblem(o.id, `${kind} id`);
  if (problem) throw new LocalCatalogError(`${problem} (${where})`);
  return o as Record<string, unknown> & { id: string };
}

/**
 * Reads a catalogue and checks it: ids, namespace, known keys and values, that
 * each configuration folder exists, that `dependsOn` names catalogue images and
 * has no cycle. Images come back in build order.
 * @param path the catalogue file, or a folder holding catalog.yaml
 * @param namespace overrides the catalogue's namespace
 */
export function readLocalCatalog(path: string, namespace?: string): LocalCatalog {
  const file = catalogFileOf(path);
  const base = dirname(file);
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new LocalCatalogError(`cannot read catalogue ${file}: ${(cause as Error).message}`, { cause });
  }
  if (!isObject(raw)) throw new LocalCatalogError(`catalogue ${file} must be a mapping with namespace, images and features`);
  const unknown = Object.keys(raw).filter((k) => !['namespace', 'images', 'features'].includes(k));
  if (unknown.length) throw new LocalCatalogError(`catalogue ${file} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: allowed are namespace, images, features`);
  const ns = namespace ?? (typeof raw.namespace === 'string' ? raw.namespace : DEFAULT_NAMESPACE);
  const nsProblem = namespaceProblem(ns);
  if (nsProblem) throw new LocalCatalogError(`${nsProblem} (catalogue ${file})`);
  for (const key of ['images', 'features'] as const) {
    if (raw[key] !== undefined && !Array.isArray(raw[key])) throw new LocalCatalogError(`'${key}' in ${file} must be a list`);
  }

  const folder = (kind: 'images' | 'features', id: string) => {
    const dir = join(base, kind, id);
    if (!existsSync(dir)) throw new LocalCatalogError(`the configuration of ${kind.slice(0, -1)} '${id}' is missing: expected the folder ${dir} (next to ${file})`);
    return dir;
  };
  const images: LocalImageEntry[] = ((raw.images as unknown[] | undefined) ?? []).map((r, i) => {
    const o = entry(r, 'image', i, file, ['id', 'platforms', 'computeSize', 'dependsOn', 'releaseTags']);
    const releaseTags = o.releaseTags === undefined ? ['latest', 'semver', 'date'] : stringList(o.releaseTags, `'releaseTags' of image '${o.id}'`);
    const badRule = releaseTags.find((t) => !(RELEASE_TAG_RULES as readonly string[]).includes(t));
    if (badRule) throw new LocalCatalogError(`'releaseTags' of image '${o.id}' has '${badRule}': use ${RELEASE_TAG_RULES.join(', ')}`);
    const platforms = o.platforms === undefined ? ALL_PLATFORMS : stringList(o.platforms, `'platforms' of image '${o.id}'`);
    const badPlatform = platforms.find((p) => !ALL_PLATFORMS.includes(p));
    if (badPlatform) throw new LocalCatalogError(`'platforms' of image '${o.id}' has '${badPlatform}': use ${ALL_PLATFORMS.join(', ')}`);
    return { id: o.id, dir: folder('images', o.id), dependsOn: stringList(o.dependsOn, `'dependsOn' of image '${o.id}'`), releaseTags: releaseTags as ReleaseTagRule[], platforms };
  });
  const features: LocalFeatureEntry[] = ((raw.features as unknown[] | undefined) ?? []).map((r, i) => {
    const o = entry(r, 'feature', i, file, ['id', 'computeSize']);
    return { id: o.id, dir: folder('features', o.id) };
  });
  for (const list of [images, features]) {
    const seen = new Set<string>();
    for (const e of list) {
      if (seen.has(e.id)) throw new LocalCatalogError(`'${e.id}' is listed twice in ${file}: list each image and feature once`);
      seen.add(e.id);
    }
  }
  return { file, namespace: ns, images: buildOrder(images, file), features };
}

/** Images sorted so that each comes after the images it depends on. */
function buildOrder(images: readonly LocalImageEntry[], file: string): LocalImageEntry[] {
  const byId = new Map(images.map((i) => [i.id, i]));
  const ordered: LocalImageEntry[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (image: LocalImageEntry, path: string[]) => {
    if (state.get(image.id) === 'done') return;
    if (state.get(image.id) === 'visiting') throw new LocalCatalogError(`'dependsOn' in ${file} has a cycle: ${[...path, image.id].join(' → ')}`);
    state.set(image.id, 'visiting');
    for (const dep of image.dependsOn) {
      const base = byId.get(dep);
      if (!base) throw new LocalCatalogError(`image '${image.id}' depends on '${dep}', which is not an image of ${file}: add it to images or remove it from dependsOn`);
      visit(base, [...path, image.id]);
    }
    state.set(image.id, 'done');
    ordered.push(image);
  };
  for (const image of images) visit(image, []);
  return ordered;
}
