/**
 * The catalogue `dcf local` runs: the factory app's catalogue file (read and
 * checked by `readCatalogFile` of `@devcontainer-factory/core`), with each
 * configuration in a folder next to it: `images/<id>/` and `features/<id>/`.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  PLATFORMS,
  CatalogError,
  DEFAULT_NAMESPACE,
  RELEASE_TAG_RULES,
  buildOrder,
  checkFeatureUses,
  namespaceProblem,
  readCatalogFile,
  type ReleaseTagRule,
  resolveVulnerabilityPolicy,
  type VulnerabilityPolicy,
} from '@devcontainer-factory/core';

/** Names `dcf local run <dir>` looks for in a folder, in this order. */
export const CATALOG_FILE_NAMES = ['catalog.yaml', 'catalog.yml', 'catalog.json'] as const;

export interface LocalImageEntry {
  readonly id: string;
  /** Absolute path of the configuration folder. */
  readonly dir: string;
  /** Ids of the catalogue images this one builds on (their `latest` is part of its build id). */
  readonly dependsOn: readonly string[];
  /** The catalogue's rules, or all of them. */
  readonly releaseTags: readonly ReleaseTagRule[];
  /** The platforms the catalogue asks for, or all of them (`dcf local` builds the host's only). */
  readonly platforms: readonly string[];
  /** The catalogue's `keepDateTags` for retention, when it gives one. */
  readonly keepDateTags?: number;
  /** The catalogue's vulnerability policy, defaults filled in. */
  readonly vulnerabilities: VulnerabilityPolicy;
  /**
   * Whether the catalogue asks for a manual approval before Release: `dcf local` treats it as given (see {@link approvalNote}).
   * @default false
   */
  readonly approval?: boolean;
}

export interface LocalFeatureEntry {
  readonly id: string;
  /** Absolute path of the configuration folder. */
  readonly dir: string;
  /**
   * Whether the catalogue asks for a manual approval before Publish: `dcf local` treats it as given.
   * @default false
   */
  readonly approval?: boolean;
}

export interface LocalCatalog {
  /** The catalogue file. */
  readonly file: string;
  readonly namespace: string;
  /** In build order: every image after the images it depends on. */
  readonly images: readonly LocalImageEntry[];
  readonly features: readonly LocalFeatureEntry[];
}

/**
 * Thrown for a catalogue file that cannot be found or opened, or whose configuration
 * folders or namespace are wrong. The shared checks of the format throw their own
 * {@link CatalogError}, which {@link readLocalCatalog} lets through unwrapped.
 */
export class LocalCatalogError extends CatalogError {}

/** The largest catalogue file `dcf local` reads (a catalogue of thousands of images is a few hundred KiB). */
export const MAX_CATALOG_FILE_SIZE = 1024 * 1024;

/** The catalogue file of a path: the file itself, or `catalog.yaml|yml|json` in a folder; a regular file of bounded size. */
export function catalogFileOf(path: string): string {
  if (!existsSync(path))
    throw new LocalCatalogError(`'${path}' does not exist: pass a catalogue file (e.g. examples/catalog.yaml) or the folder that holds one`);
  if (!statSync(path).isDirectory()) return checkCatalogFile(path);
  const found = CATALOG_FILE_NAMES.map((n) => join(path, n)).find((f) => existsSync(f));
  if (!found) throw new LocalCatalogError(`'${path}' holds no ${CATALOG_FILE_NAMES.join(', ')}: write one (see examples/catalog.yaml) or pass the file`);
  return checkCatalogFile(found);
}

/**
 * Refuses a catalogue that is not a regular file (a FIFO would block the read
 * forever, a device never end) or that is over {@link MAX_CATALOG_FILE_SIZE}.
 * Opens it without blocking and looks at what was opened, so nothing waits on a writer.
 */
function checkCatalogFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new LocalCatalogError(
      `cannot open the catalogue file ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}): check that it exists and is readable`,
      { cause: e },
    );
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const what = stats.isFIFO()
        ? 'a FIFO (named pipe)'
        : stats.isCharacterDevice() || stats.isBlockDevice()
          ? 'a device'
          : stats.isSocket()
            ? 'a socket'
            : 'not a regular file';
      throw new LocalCatalogError(`the catalogue ${file} is ${what}: pass a regular catalogue file (e.g. examples/catalog.yaml)`);
    }
    if (stats.size > MAX_CATALOG_FILE_SIZE) {
      throw new LocalCatalogError(
        `the catalogue file ${file} is ${stats.size} bytes, over the limit of ${MAX_CATALOG_FILE_SIZE}: is it the right file? A catalogue lists ids and settings only`,
      );
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

/**
 * Reads a catalogue and checks it: the shared checks of the format (keys, values,
 * ids, `dependsOn` and its cycles, `usesFeatures` naming its features), the namespace, and that each configuration
 * folder exists. Images come back in build order.
 * @param path the catalogue file, or a folder holding catalog.yaml
 * @param namespace overrides the catalogue's namespace
 * @throws CatalogError for a bad catalogue: a {@link LocalCatalogError} for the file, its folders or the namespace
 */
export function readLocalCatalog(path: string, namespace?: string): LocalCatalog {
  const file = catalogFileOf(path);
  const catalog = readCatalogFile(file);
  const ordered = buildOrder(catalog.images, `the catalogue file ${file}`);
  checkFeatureUses(
    catalog.images,
    catalog.features.map((f) => f.id),
    `the catalogue file ${file}`,
  );
  const ns = namespace ?? catalog.namespace ?? DEFAULT_NAMESPACE;
  const nsProblem = namespaceProblem(ns);
  if (nsProblem) throw new LocalCatalogError(`${nsProblem} (${namespace === undefined ? `catalogue ${file}` : '--namespace or DCF_NAMESPACE'})`);

  const folder = (kind: 'image' | 'feature', id: string): string => {
    const dir = join(dirname(file), `${kind}s`, id);
    const stats = statSync(dir, { throwIfNoEntry: false });
    if (!stats) throw new LocalCatalogError(`the configuration of ${kind} '${id}' is missing: expected the folder ${dir} (next to ${file})`);
    if (!stats.isDirectory())
      throw new LocalCatalogError(
        `the configuration of ${kind} '${id}' must be a folder, but ${dir} is a file: put its configuration in a folder of that name`,
      );
    const configs = kind === 'image' ? ['.devcontainer/devcontainer.json', '.devcontainer.json'] : ['devcontainer-feature.json'];
    if (!configs.some((c) => statSync(join(dir, c), { throwIfNoEntry: false })?.isFile())) {
      throw new LocalCatalogError(`the folder of ${kind} '${id}' (${dir}) has no ${configs.join(' or ')}: add it (dcf init ${kind} ${dir} writes one)`);
    }
    return dir;
  };
  return {
    file,
    namespace: ns,
    images: ordered.map((i) => ({
      id: i.id,
      dir: folder('image', i.id),
      dependsOn: i.dependsOn ?? [],
      releaseTags: i.releaseTags ?? RELEASE_TAG_RULES,
      platforms: i.platforms ?? PLATFORMS,
      ...(i.keepDateTags !== undefined && { keepDateTags: i.keepDateTags }),
      vulnerabilities: resolveVulnerabilityPolicy(i.vulnerabilities),
      ...(i.approval && { approval: true }),
    })),
    features: catalog.features.map((f) => ({ id: f.id, dir: folder('feature', f.id), ...(f.approval && { approval: true }) })),
  };
}

/**
 * What `dcf local run` says of the catalogue's approvals, or undefined when nothing asks
 * for one. Local mode does not model them: whoever runs `dcf local` is the one who would
 * approve, so each approval is treated as given and Release (Publish) follows Test.
 */
export function approvalNote(catalog: LocalCatalog): string | undefined {
  const asking = [
    ...catalog.features.filter((f) => f.approval).map((f) => `feature ${f.id}`),
    ...catalog.images.filter((i) => i.approval).map((i) => `image ${i.id}`),
  ];
  if (asking.length === 0) return undefined;
  return `approval: ${asking.join(', ')} ${asking.length === 1 ? 'asks' : 'ask'} for a manual approval before Release (Publish for a feature) in the cloud; dcf local treats it as given, since you run it`;
}
