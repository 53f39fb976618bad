import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Folder of an esbuild bundle (`index.js` inside), for `lambda.Code.fromAsset` or an
 * S3 asset: a handler from `src/handlers/<name>` or a CodeBuild tool from
 * `src/tools/<name>`. Throws when the package was not built.
 */
export function bundleDir(name: string): string {
  const dir = join(__dirname, 'bundles', name);
  if (!existsSync(join(dir, 'index.js'))) {
    throw new Error(`bundle '${name}' is missing at ${dir}: build @devcontainer-factory/lambdas first (nx build lambdas)`);
  }
  return dir;
}

/** Bundle names of the image pipeline's Lambda handlers (`bundleDir(IMAGE_HANDLERS.prepare)`). */
export const IMAGE_HANDLERS = { prepare: 'prepare', manifest: 'manifest', release: 'release', retention: 'retention' } as const;

/**
 * Bundle names of the warehouse's Lambda handlers: `registrySettings`, the custom resource that merges a
 * namespace's scanning filters and signing rule into the account-wide ECR settings (`bundleDir(WAREHOUSE_HANDLERS.registrySettings)`).
 */
export const WAREHOUSE_HANDLERS = { registrySettings: 'registry-settings' } as const;

/** Bundle name of the feature pipeline's CodeBuild tool (`bundleDir(FEATURE_TOOL)`). */
export const FEATURE_TOOL = 'feature-tool';

/** Bundle name of the image pipeline's CodeBuild tool, the SBOM step of Build (`bundleDir(IMAGE_TOOL)`). */
export const IMAGE_TOOL = 'image-tool';
