import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, type ImagePipelineProps } from '../src';
import { resolveImagePipelineProps } from '../src/private/resolve-props';

// The props resolver on its own: every rule that needs no construct, without a stack,
// and the constructor naming the construct once on what it throws.

const stack = () => new Stack(new App(), 'Team');
const warehouse = new Warehouse(stack(), 'Warehouse');
const repository = ecr.Repository.fromRepositoryName(stack(), 'Repository', 'devcontainers/images/python');

describe('resolveImagePipelineProps', () => {
  test('GIVEN only an id and a warehouse THEN every default is filled in, and the warehouse makes staging', () => {
    expect(resolveImagePipelineProps({ imageId: 'python', warehouse })).toEqual({
      imageId: 'python',
      removalPolicy: RemovalPolicy.RETAIN,
      createsStagingRepository: false,
      platforms: ['linux/amd64', 'linux/arm64'],
      releaseTags: ['latest', 'semver', 'date'],
      computeSize: 'medium',
      devcontainerCliVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      pullThroughPrefixes: [],
      dependsOn: [],
      usesFeatures: [],
      refresh: 'weekly',
    });
  });

  test('GIVEN a repository of its own and no warehouse THEN the pipeline creates staging, which is scanned, so the gate is on by default', () => {
    const resolved = resolveImagePipelineProps({ imageId: 'python', repository, sourceBucket: warehouse.sourceBucket });
    expect(resolved.createsStagingRepository).toBe(true);
    expect(resolved.vulnerabilityGate).toEqual({ policy: { blockAt: 'CRITICAL', allow: [] }, maxWaitSeconds: 600, enhancedScanning: false });
  });

  test('the Docker Hub cache is one of the pull-through prefixes, and the ECR Public cache is not', () => {
    const resolved = resolveImagePipelineProps({
      imageId: 'python',
      warehouse,
      ecrPublicCachePrefix: 'acme/ecr-public',
      dockerHubCachePrefix: 'acme/docker-hub',
      pullThroughCachePrefixes: ['acme/ecr-public', 'acme/quay'],
    });
    expect(resolved.pullThroughPrefixes).toEqual(['acme/quay', 'acme/docker-hub']);
  });

  test.each<[string, Partial<ImagePipelineProps>, string]>([
    ['an image that depends on itself', { dependsOn: ['python'] }, "image 'python' cannot depend on itself: remove it from dependsOn"],
    ['a platform twice', { platforms: ['linux/amd64', 'linux/amd64'] }, "platforms names 'linux/amd64' more than once: name each once"],
    ['no release tag rule', { releaseTags: [] }, 'releaseTags must not be empty: name at least one of latest, semver, date'],
    [
      'one prefix for both caches',
      { ecrPublicCachePrefix: 'acme/cache', dockerHubCachePrefix: 'acme/cache' },
      "dockerHubCachePrefix 'acme/cache' is the ECR Public cache's prefix: give the Docker Hub cache's own",
    ],
    [
      'a gate that waits too long',
      { vulnerabilityGate: { maxWait: Duration.minutes(15) } },
      'vulnerabilityGate.maxWait is 900 s: use 0 to 14 minutes (the Release Lambda runs 15)',
    ],
  ])('GIVEN %s THEN it says which prop and what to pass, with no construct path', (_name, more, message) => {
    expect(() => resolveImagePipelineProps({ imageId: 'python', warehouse, ...more })).toThrow(new ImagePipelinePropsError(message));
  });

  test('the constructor names the construct once', () => {
    const scope = stack();
    const shared = new Warehouse(scope, 'Warehouse');
    const thrown = (() => {
      try {
        new ImagePipeline(scope, 'Python', { imageId: 'python', warehouse: shared, dependsOn: ['python'] });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ImagePipelinePropsError);
    expect(thrown?.message).toBe("Team/Python: image 'python' cannot depend on itself: remove it from dependsOn");
  });
});
