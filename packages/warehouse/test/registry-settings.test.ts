import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { RegistrySettings } from '../src';

describe('RegistrySettings', () => {
  test('GIVEN no props THEN no account-wide resource is created', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings');
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources ?? {})).toEqual([]);
  });

  test('GIVEN scan-on-push filters THEN one scanning configuration with those filters, and an info note that it is account-wide', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', { scanOnPushFilters: ['acme/*', 'tools/*'], scanType: 'ENHANCED' });
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::RegistryScanningConfiguration', {
      ScanType: 'ENHANCED',
      Rules: [{ ScanFrequency: 'SCAN_ON_PUSH', RepositoryFilters: [{ Filter: 'acme/*', FilterType: 'WILDCARD' }, { Filter: 'tools/*', FilterType: 'WILDCARD' }] }],
    });
    Annotations.fromStack(stack).hasInfo('/Default/Settings', Match.stringLikeRegexp('account-wide: this stack owns the ECR registry scanning configuration'));
  });

  test('GIVEN an ECR Public cache prefix THEN one pull-through cache rule for public.ecr.aws under it, noted as account-wide', () => {
    const stack = new Stack();
    new RegistrySettings(stack, 'Settings', { ecrPublicCachePrefix: 'acme/ecr-public' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECR::PullThroughCacheRule', { EcrRepositoryPrefix: 'acme/ecr-public', UpstreamRegistry: 'ecr-public', UpstreamRegistryUrl: 'public.ecr.aws' });
    template.resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 0);
    Annotations.fromStack(stack).hasInfo('/Default/Settings', Match.stringLikeRegexp('account-wide: the pull-through cache prefix acme/ecr-public/'));
  });

  test.each([
    [{ ecrPublicCachePrefix: 'a-very-long-namespace-name/ecr-public' }, /ecrPublicCachePrefix 'a-very-long-namespace-name\/ecr-public' is not an ECR pull-through cache prefix: use 2 to 30/],
    [{ scanOnPushFilters: ['Acme/*'] }, /'Acme\/\*' are not ECR repository filters/],
    [{ scanOnPushFilters: ['acme/*'], scanType: 'FULL' as never }, /scanType 'FULL' is unknown: use BASIC or ENHANCED/],
    [{ scanType: 'BASIC' as const }, /scanType is set but scanOnPushFilters is empty/],
  ])('GIVEN %j THEN a clear error', (props, message) => {
    expect(() => new RegistrySettings(new Stack(), 'Settings', props)).toThrow(message);
  });
});
