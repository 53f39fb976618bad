/**
 * The files of a cloud assembly as `cdk synth` writes them: `manifest.json` (the stack
 * artifacts, their environments and dependencies) and each stack's asset manifest
 * (`<stack>.assets.json`: which local folder or file is published to which bucket and key).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RehearsalError } from '../errors';
import type { Template } from './stack-resolver';

/** One `aws:cloudformation:stack` artifact. */
export interface StackArtifact {
  readonly artifactId: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: Template;
  /** `aws://<account>/<region>`, or with `unknown-account`/`unknown-region` for an environment-agnostic stack. */
  readonly environment?: string;
  /** Artifact ids of the stacks (not asset manifests) this stack deploys after. */
  readonly dependencies: readonly string[];
  /** The highest bootstrap version the stack or its assets require. */
  readonly requiresBootstrapStackVersion?: number;
}

/** One file asset, with the destination CDK publishes it to. */
export interface AssetFile {
  readonly id: string;
  /** Absolute path of the folder (packaging `zip`) or file (packaging `file`) in the assembly. */
  readonly path: string;
  readonly packaging: 'zip' | 'file';
  readonly bucketName: string;
  readonly objectKey: string;
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly dependencies?: string[];
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly file?: string;
    readonly requiresBootstrapStackVersion?: number;
  };
}

interface AssetManifest {
  readonly files?: Record<
    string,
    { source: { path: string; packaging?: 'zip' | 'file' }; destinations: Record<string, { bucketName: string; objectKey: string }> }
  >;
}

/** The stacks and file assets of the assembly in `dir`. */
export function readCloudAssembly(
  dir: string,
  env: { readonly account: string; readonly region: string; readonly partition: string },
): { stacks: StackArtifact[]; assets: AssetFile[] } {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new RehearsalError(`${dir} is not a cloud assembly: it has no manifest.json (run cdk synth -o ${dir})`);
  const artifacts = (readJson(manifestFile) as { artifacts?: Record<string, ManifestArtifact> }).artifacts ?? {};
  const stackIds = new Set(
    Object.entries(artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id),
  );

  const stacks: StackArtifact[] = [];
  const assets: AssetFile[] = [];
  for (const [artifactId, artifact] of Object.entries(artifacts)) {
    if (artifact.type === 'cdk:cloud-assembly') {
      throw new RehearsalError(`artifact ${artifactId} is a nested cloud assembly (a CDK Stage), which the rehearsal does not model`);
    }
    if (artifact.type === 'cdk:asset-manifest' && artifact.properties?.file) {
      assets.push(...readAssetManifest(dir, artifact.properties.file, env));
    }
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const templateFile = artifact.properties?.templateFile;
    if (!templateFile) throw new RehearsalError(`stack artifact ${artifactId} names no templateFile`);
    const requirements = [
      artifact.properties?.requiresBootstrapStackVersion,
      ...(artifact.dependencies ?? []).map((d) => artifacts[d]?.properties?.requiresBootstrapStackVersion),
    ];
    const required = requirements.filter((v): v is number => typeof v === 'number');
    stacks.push({
      artifactId,
      stackName: artifact.properties?.stackName ?? artifactId,
      templateFile: join(dir, templateFile),
      template: readJson(join(dir, templateFile)) as Template,
      environment: artifact.environment,
      dependencies: (artifact.dependencies ?? []).filter((d) => stackIds.has(d)),
      ...(required.length > 0 && { requiresBootstrapStackVersion: Math.max(...required) }),
    });
  }
  return { stacks, assets };
}

function readAssetManifest(dir: string, file: string, env: { readonly account: string; readonly region: string; readonly partition: string }): AssetFile[] {
  const manifest = readJson(join(dir, file)) as AssetManifest;
  // Environment-agnostic asset manifests name the bootstrap bucket with placeholders.
  const place = (s: string) =>
    s
      .replace(/\$\{AWS::AccountId\}/g, env.account)
      .replace(/\$\{AWS::Region\}/g, env.region)
      .replace(/\$\{AWS::Partition\}/g, env.partition);
  return Object.entries(manifest.files ?? {}).flatMap(([id, asset]) =>
    Object.values(asset.destinations).map((destination) => ({
      id,
      path: resolve(dir, asset.source.path),
      packaging: asset.source.packaging ?? 'file',
      bucketName: place(destination.bucketName),
      objectKey: place(destination.objectKey),
    })),
  );
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new RehearsalError(`cannot read ${file}`, { cause });
  }
}
