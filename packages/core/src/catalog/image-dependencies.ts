import { BASE_IMAGE_TAG } from '../wire/image-jobs';
import { CatalogError } from './catalog-error';

/** What {@link checkDependencies} and {@link buildOrder} need of an image. */
export interface DependentImage {
  readonly id: string;
  /** @default - no base image */
  readonly dependsOn?: readonly string[];
  /**
   * The release tag rules of the image; a base must release `latest`, which its dependants build on.
   * @default - every rule, `latest` among them
   */
  readonly releaseTags?: readonly string[];
}

/** What {@link checkFeatureUses} needs of an image. */
export interface FeatureUsingImage {
  readonly id: string;
  /** @default - no factory feature */
  readonly usesFeatures?: readonly string[];
}

/**
 * Checks the `usesFeatures` of a whole catalogue: every feature an image uses is a
 * feature of the catalogue (its repository `<ns>/features/<id>` is what starts the
 * image's pipeline). Throws {@link CatalogError}.
 * @param featureIds the ids of the catalogue's features
 * @param where the catalogue's features, as the fix should name them: `-c features=… or the catalogue file catalog.yaml`
 */
export function checkFeatureUses(images: readonly FeatureUsingImage[], featureIds: readonly string[], where: string): void {
  const known = new Set(featureIds);
  for (const image of images) {
    for (const feature of image.usesFeatures ?? []) {
      if (!known.has(feature)) {
        throw new CatalogError(
          `image '${image.id}' usesFeatures unknown feature '${feature}', which is not a feature of ${where}: add it to features or remove it from usesFeatures (known: ${[...known].join(', ') || 'none'})`,
        );
      }
    }
  }
}

/**
 * Checks the `dependsOn` of a whole catalogue: every base is an image of the
 * catalogue, no image is its own base, and there is no cycle (the message shows
 * its path, `a -> b -> a`), and every base releases the `latest` tag that its
 * dependants are built on and started by. Throws {@link CatalogError}.
 * @param where the catalogue, as the fix should name it: `the catalogue file catalog.yaml`
 */
export function checkDependencies(images: readonly DependentImage[], where: string): void {
  buildOrder(images, where);
}

/**
 * The images in build order: each after the images it depends on, otherwise in
 * the given order. Checks `dependsOn` as {@link checkDependencies} does.
 * @param where the catalogue, as the fix should name it (default `the catalogue`)
 */
export function buildOrder<T extends DependentImage>(images: readonly T[], where = 'the catalogue'): T[] {
  const byId = new Map(images.map((i) => [i.id, i]));
  for (const image of images) {
    for (const dep of image.dependsOn ?? []) {
      if (dep === image.id) throw new CatalogError(`image '${image.id}' lists itself in dependsOn: an image cannot be its own base`);
      if (!byId.has(dep)) {
        throw new CatalogError(
          `image '${image.id}' dependsOn unknown image '${dep}', which is not an image of ${where}: add it to images or remove it from dependsOn (known: ${[...byId.keys()].join(', ') || 'none'})`,
        );
      }
      const baseTags = byId.get(dep)!.releaseTags;
      if (baseTags && !baseTags.includes(BASE_IMAGE_TAG)) {
        throw new CatalogError(
          `image '${image.id}' dependsOn '${dep}', whose releaseTags [${baseTags.join(', ')}] leave out '${BASE_IMAGE_TAG}': a dependant is built on and started by its base's '${BASE_IMAGE_TAG}' tag, so add '${BASE_IMAGE_TAG}' to the releaseTags of '${dep}' in ${where}`,
        );
      }
    }
  }
  // Depth-first, bases first; a base met again while its own bases are being visited closes a cycle.
  const ordered: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (image: T, path: readonly string[]): void => {
    if (state.get(image.id) === 'done') return;
    if (state.get(image.id) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(image.id)), image.id];
      throw new CatalogError(
        `dependsOn has a cycle: ${cycle.join(' -> ')} in ${where}; an image cannot (indirectly) be built on itself: remove one of these dependsOn`,
      );
    }
    state.set(image.id, 'visiting');
    for (const dep of image.dependsOn ?? []) visit(byId.get(dep)!, [...path, image.id]);
    state.set(image.id, 'done');
    ordered.push(image);
  };
  for (const image of images) visit(image, []);
  return ordered;
}
