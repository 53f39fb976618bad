import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { readCatalog } from '../src/catalog';
import { addFactory, factoryApp } from '../src/factory';

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function factory(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'factory-registry-'));
  outdirs.push(outdir);
  const app = factoryApp({ outdir });
  return addFactory(
    app,
    readCatalog((key) => ({ images: '', features: '', ...context })[key]),
    { env: { account: '123456789012', region: 'eu-west-1' } },
  );
}

function registryResources(context: Record<string, unknown>, type = 'Custom::EcrRegistryScanning') {
  return Template.fromStack(factory(context).warehouse).findResources(type);
}

/** A CloudFormation string value with `Fn::Join` flattened and every other intrinsic as `<token>`. */
function text(node: unknown): string {
  if (typeof node === 'string') return node;
  const join = (node as Record<string, unknown>)?.['Fn::Join'] as [string, unknown[]] | undefined;
  return join ? join[1].map(text).join(join[0]) : '<token>';
}

describe('account-wide registry settings in the factory app', () => {
  test('the app merges scan on push for its namespace into the account’s scanning configuration by default, and never replaces it', () => {
    // addFactory adds AwsSolutionsChecks: synthesis (Template.fromStack) throws on an unacknowledged finding.
    const [merge] = Object.values(registryResources({ namespace: 'acme' }));
    expect(merge.Properties).toMatchObject({ ScanType: 'BASIC', ScanOnPushFilters: ['acme/*'] });
    expect(registryResources({ namespace: 'acme' }, 'AWS::ECR::RegistryScanningConfiguration')).toEqual({});
  });

  test('-c registryScanning=false leaves the account’s scanning configuration alone', () => {
    expect(registryResources({ registryScanning: 'false' })).toEqual({});
    expect(registryResources({ registryScanning: 'false', blobMounting: 'false' }, 'AWS::Lambda::Function')).toEqual({});
  });

  test('-c registryScanning with another value is a catalogue error', () => {
    expect(() => readCatalog((key) => ({ registryScanning: 'no' })[key])).toThrow(/-c registryScanning must be true or false, got "no"/);
  });
});

describe('ECR blob mounting in the factory app', () => {
  const enablesBlobMounting = (resource: unknown) => JSON.parse((resource as { Properties: { Create: string } }).Properties.Create).parameters;

  test('is on by default, in the warehouse stack, which stays clean under cdk-nag', () => {
    // addFactory adds AwsSolutionsChecks: synthesis (Template.fromStack) throws on an unacknowledged finding.
    const resources = Object.values(registryResources({ namespace: 'acme' }, 'Custom::EcrAccountSetting'));
    expect(resources).toHaveLength(1);
    expect(enablesBlobMounting(resources[0])).toEqual({ name: 'BLOB_MOUNTING', value: 'ENABLED' });
    expect(Object.values(registryResources({ blobMounting: 'true' }, 'Custom::EcrAccountSetting'))).toHaveLength(1);
  });

  test('-c blobMounting=false (or a boolean false in cdk.json) leaves it alone', () => {
    expect(registryResources({ blobMounting: 'false' }, 'Custom::EcrAccountSetting')).toEqual({});
    expect(registryResources({ blobMounting: false }, 'Custom::EcrAccountSetting')).toEqual({});
    expect(readCatalog((key) => ({ blobMounting: true })[key]).blobMounting).toBe(true);
  });

  test('-c blobMounting with another value is a catalogue error', () => {
    expect(() => readCatalog((key) => ({ blobMounting: 'yes' })[key])).toThrow(/-c blobMounting must be true or false, got "yes"/);
  });
});

describe('images Build and Test use', () => {
  test('the app serves ECR Public through a pull-through cache under its namespace, and Build pulls BuildKit through it', () => {
    const stacks = factory({ namespace: 'acme', images: 'python' });
    Template.fromStack(stacks.warehouse).hasResourceProperties('AWS::ECR::PullThroughCacheRule', {
      EcrRepositoryPrefix: 'acme/ecr-public',
      UpstreamRegistryUrl: 'public.ecr.aws',
    });
    const specs = Object.values(Template.fromStack(stacks.images.get('python')!).findResources('AWS::CodeBuild::Project')).map((p) =>
      JSON.parse(text(p.Properties.Source.BuildSpec)),
    );
    const build = specs.find((s) => s.env.variables.BUILDKIT_IMAGE)!;
    expect(build.env.variables.BUILDKIT_IMAGE).toBe('<token>.dkr.ecr.<token>.<token>/acme/ecr-public/vend/moby/buildkit:v0.32.2');
  });

  test('no buildspec of any image stack names an image without a registry host', () => {
    const stacks = factory({ images: 'python,node', features: 'hello' });
    const all = [...stacks.images.values(), ...stacks.features.values()];
    for (const stack of all) {
      for (const project of Object.values(Template.fromStack(stack).findResources('AWS::CodeBuild::Project'))) {
        const spec = JSON.parse(text(project.Properties.Source.BuildSpec));
        const images = Object.entries(spec.env?.variables ?? {})
          .filter(([name]) => name.endsWith('IMAGE'))
          .map(([, value]) => String(value));
        // Docker reads a first component without '.', ':' or 'localhost' as a Docker Hub name.
        for (const image of images) expect(image.split('/')[0]).toMatch(/[.:]|^localhost$/);
        // No docker pull / buildx image option / FROM of a literal name without a host.
        const phases = JSON.stringify(spec.phases);
        expect(phases).not.toMatch(/docker (?:pull|run)[^"]*? (?:[a-z0-9-]+\/)?[a-z0-9-]+:[\w.-]+/);
        expect(phases).not.toMatch(/image=(?!\$\{)/);
      }
    }
  });

  test('-c ecrPublicCache=false creates no pull-through cache and Build pulls BuildKit from public.ecr.aws', () => {
    const stacks = factory({ images: 'python', ecrPublicCache: 'false' });
    expect(Template.fromStack(stacks.warehouse).findResources('AWS::ECR::PullThroughCacheRule')).toEqual({});
    expect(JSON.stringify(Template.fromStack(stacks.images.get('python')!).toJSON())).toContain('public.ecr.aws/vend/moby/buildkit:v0.32.2');
  });

  test('a namespace too long for the default cache prefix is a catalogue error that says what to pass', () => {
    expect(() => readCatalog((key) => ({ namespace: 'a-namespace-of-twenty-chars' })[key])).toThrow(
      /the ECR Public pull-through cache prefix 'a-namespace-of-twenty-chars\/ecr-public' is not one ECR accepts.*-c ecrPublicCache=PREFIX.*-c ecrPublicCache=false/,
    );
  });
});

describe('credentialed pull-through caches (Docker Hub, GHCR) in the factory app', () => {
  test('are absent by default', () => {
    const rules = Object.values(registryResources({ namespace: 'acme' }, 'AWS::ECR::PullThroughCacheRule')).map((r) => r.Properties.UpstreamRegistry);
    expect(rules).toEqual(['ecr-public']);
  });

  test('-c dockerHubCacheSecret and -c ghcrCacheSecret add a rule each with the secret, and every image’s Build may pull through them; cdk-nag stays clean', () => {
    // GIVEN / WHEN (addFactory runs cdk-nag: synthesis throws on an unacknowledged finding)
    const stacks = factory({
      namespace: 'acme',
      images: 'python',
      dockerHubCacheSecret: 'ecr-pullthroughcache/docker-hub',
      ghcrCacheSecret: 'ecr-pullthroughcache/ghcr',
    });

    // THEN
    const rules = Object.values(Template.fromStack(stacks.warehouse).findResources('AWS::ECR::PullThroughCacheRule')).map((r) => r.Properties);
    expect(rules.map((r) => [r.EcrRepositoryPrefix, r.UpstreamRegistry, r.UpstreamRegistryUrl])).toEqual([
      ['acme/ecr-public', 'ecr-public', 'public.ecr.aws'],
      ['acme/docker-hub', 'docker-hub', 'registry-1.docker.io'],
      ['acme/ghcr', 'github-container-registry', 'ghcr.io'],
    ]);
    expect(text(rules[1].CredentialArn)).toContain(':secret:ecr-pullthroughcache/docker-hub');
    const policies = JSON.stringify(Template.fromStack(stacks.images.get('python')!).findResources('AWS::IAM::Policy'));
    for (const prefix of ['acme/docker-hub', 'acme/ghcr']) expect(policies).toContain(`:repository/${prefix}/*`);
    // and Build sends docker.io pulls through the Docker Hub cache, which Prepare knows of
    const image = Template.fromStack(stacks.images.get('python')!);
    const build = Object.values(image.findResources('AWS::CodeBuild::Project'))
      .map((p) => JSON.parse(text(p.Properties.Source.BuildSpec)))
      .find((s) => s.env.variables.BUILDKIT_IMAGE)!;
    expect(build.env.variables.DOCKER_HUB_MIRROR).toBe('<token>.dkr.ecr.<token>.<token>/acme/docker-hub');
    expect(JSON.stringify(image.toJSON())).toContain('\\"dockerHubCachePrefix\\":\\"acme/docker-hub\\"');
  });

  test('without -c dockerHubCacheSecret, Build has no Docker Hub mirror (Prepare warns of Docker Hub bases instead)', () => {
    const stacks = factory({ namespace: 'acme', images: 'python' });
    const image = JSON.stringify(Template.fromStack(stacks.images.get('python')!).toJSON());
    expect(image).not.toContain('DOCKER_HUB_MIRROR');
    expect(image).not.toContain('dockerHubCachePrefix');
  });

  test('a secret not named ecr-pullthroughcache/… is a catalogue error that names the rule', () => {
    expect(() => readCatalog((key) => ({ dockerHubCacheSecret: 'dockerhub-token' })[key])).toThrow(
      /-c dockerHubCacheSecret=dockerhub-token: the secret must be named 'ecr-pullthroughcache\/<name>'/,
    );
  });

  test('signing is off unless -c signing=true, which merges a rule for the release and feature repositories of the namespace into the account’s signing configuration', () => {
    expect(registryResources({ namespace: 'acme' }, 'Custom::EcrSigningConfiguration')).toEqual({});
    const [merge] = Object.values(registryResources({ namespace: 'acme', signing: 'true' }, 'Custom::EcrSigningConfiguration'));
    expect(merge.Properties.RepositoryFilters).toEqual(['acme/images/*', 'acme/features/*', 'acme/features']);
    expect(registryResources({ namespace: 'acme', signing: 'true' }, 'AWS::ECR::SigningConfiguration')).toEqual({});
    expect(Object.values(registryResources({ namespace: 'acme', signing: 'true' }, 'AWS::Signer::SigningProfile'))).toHaveLength(1);
  });
});
