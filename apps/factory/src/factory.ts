import { Annotations, App, type AppProps, type Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackNames, type CatalogImageEntry, type ImageSettings } from '@devcontainer-factory/core';
import { WarehouseStack } from '@devcontainer-factory/warehouse';
import { ImagePipelineStack } from '@devcontainer-factory/image-pipeline';
import { FeaturePipelineStack } from '@devcontainer-factory/feature-pipeline';
import type { Catalog } from './catalog';
import { grantPushers } from './pushers';

export interface FactoryStacks {
  readonly warehouse: WarehouseStack;
  readonly images: ReadonlyMap<string, ImagePipelineStack>;
  readonly features: ReadonlyMap<string, FeaturePipelineStack>;
}

/** The context flag that makes aws-cdk-lib's CloudFormation schema validation fail synthesis instead of warning. */
export const VALIDATE_AGAINST_DEFAULT_RULES = '@aws-cdk/core:validateAgainstDefaultRules';

/**
 * The factory's CDK app: a schema error in any template (aws-cdk-lib's built-in
 * CloudFormation validation, which runs on every synth) fails synthesis. Context
 * from `cdk.json` or `-c` still takes precedence over these defaults.
 */
export function factoryApp(props: AppProps = {}): App {
  return new App({ ...props, context: { [VALIDATE_AGAINST_DEFAULT_RULES]: true, ...props.context } });
}

/**
 * Adds the factory's stacks for a catalogue to an app: `<ns>-warehouse`, then
 * `<ns>-image-<id>` and `<ns>-feature-<id>` for each entry. Pipeline stacks find
 * the warehouse through its SSM parameters (no exports) and deploy after it.
 * cdk-nag's AWS Solutions checks apply to every stack.
 */
export function addFactory(app: App, catalog: Catalog, stackProps: StackProps = {}): FactoryStacks {
  const names = stackNames(catalog.namespace);
  const tags = { 'devcontainer-factory:namespace': catalog.namespace };
  const warehouse = new WarehouseStack(app, names.warehouse, {
    ...stackProps,
    namespace: catalog.namespace,
    tags,
    // Account-wide: on in the factory app, off in the reusable Warehouse.
    registryScanning: catalog.registryScanning,
    ecrPublicCachePrefix: catalog.ecrPublicCachePrefix,
    blobMounting: catalog.blobMounting,
    signing: catalog.signing,
    upstreamCaches: catalog.upstreamCaches?.map((c) => ({ prefix: c.prefix, upstream: c.upstream, credential: c.secretName })),
    // Failed pipeline actions, retention errors and refused releases go to the warehouse's failure topic.
    notify: catalog.notify,
  });
  // Who may ship: the source bucket takes configurations only from the pushers.
  grantPushers(warehouse, catalog.pushers ?? []);

  const images = new Map<string, ImagePipelineStack>();
  for (const image of catalog.images) {
    const stack = new ImagePipelineStack(app, names.image(image.id), {
      ...stackProps,
      tags,
      description: `devcontainer-factory ${catalog.namespace}: builds, tests and releases the image '${image.id}'`,
      namespace: catalog.namespace,
      imageId: image.id,
      ...imageSettings(image),
      // A person approves before Release, told on the failure topic; approvers are granted ImagePipeline.grantApprove.
      approval: image.approval,
      ecrPublicCachePrefix: catalog.ecrPublicCachePrefix,
      pullThroughCachePrefixes: catalog.upstreamCaches?.map((c) => c.prefix),
      // Build sends docker.io pulls through the Docker Hub cache (BuildKit's mirror); without one, Prepare warns of Docker Hub bases.
      dockerHubCachePrefix: catalog.upstreamCaches?.find((c) => c.upstream === 'docker-hub')?.prefix,
      ...(image.keepDateTags !== undefined && { retention: { keepDateTags: image.keepDateTags } }),
      // The gate reads ECR's scan on push of staging, which registryScanning turns on for <ns>/*.
      vulnerabilityGate: catalog.registryScanning
        ? { blockAt: image.vulnerabilities?.blockAt, allow: image.vulnerabilities?.allow ? [...image.vulnerabilities.allow] : undefined }
        : false,
    });
    if (!catalog.registryScanning && image.vulnerabilities) {
      Annotations.of(stack).addWarningV2(
        'devcontainer-factory:vulnerability-gate-off',
        `the catalogue gives image '${image.id}' a vulnerability policy, but registryScanning is off: nothing scans staging, so Release runs no gate (deploy with -c registryScanning=true)`,
      );
    }
    deployAfter(stack, warehouse);
    images.set(image.id, stack);
  }

  const features = new Map<string, FeaturePipelineStack>();
  for (const feature of catalog.features) {
    const stack = new FeaturePipelineStack(app, names.feature(feature.id), {
      ...stackProps,
      tags,
      description: `devcontainer-factory ${catalog.namespace}: tests and publishes the feature '${feature.id}'`,
      namespace: catalog.namespace,
      featureId: feature.id,
      computeSize: feature.computeSize,
      approval: feature.approval,
    });
    deployAfter(stack, warehouse);
    features.set(feature.id, stack);
  }

  // Synthesis fails on any rule violation that is not acknowledged with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { warehouse, images, features };
}

function deployAfter(stack: Stack, warehouse: WarehouseStack): void {
  stack.addStackDependency(warehouse, 'reads the warehouse SSM parameters at deploy time');
}

/** The settings a catalogue entry and the image pipeline share ({@link ImageSettings}), as the entry gives them. */
function imageSettings(image: CatalogImageEntry): ImageSettings {
  const { platforms, computeSize, dependsOn, releaseTags, refresh, usesFeatures } = image;
  return { platforms, computeSize, dependsOn, releaseTags, refresh, usesFeatures };
}
