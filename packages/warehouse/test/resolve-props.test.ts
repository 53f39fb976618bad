import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Warehouse, WarehousePropsError } from '../src';
import { resolveWarehouseProps } from '../src/private/resolve-props';

// The warehouse's props resolver on its own, and the constructor naming itself once on what it throws.

describe('resolveWarehouseProps', () => {
  test('GIVEN no props THEN every default is filled in', () => {
    expect(resolveWarehouseProps({})).toEqual({
      namespace: 'devcontainers',
      removalPolicy: RemovalPolicy.RETAIN,
      days: { sourceVersions: 30, artifacts: 7, accessLogs: 365, untaggedImages: 14, staging: 14 },
      notify: [],
    });
  });

  test.each<[string, Parameters<typeof resolveWarehouseProps>[0], string]>([
    [
      'a retention of part of a day',
      { artifactRetention: Duration.hours(36) },
      'artifactRetention must be a whole number of days, at least 1 (got 1 day 12 hours)',
    ],
    ['no retention at all', { stagingRetention: Duration.days(0) }, 'stagingRetention must be a whole number of days, at least 1 (got 0 days)'],
  ])('GIVEN %s THEN it names the prop and what to pass, with no construct path', (_name, props, message) => {
    expect(() => resolveWarehouseProps(props)).toThrow(new WarehousePropsError(message));
  });

  test('GIVEN an endpoint that is neither an email address nor an https URL THEN notify is refused', () => {
    expect(() => resolveWarehouseProps({ notify: ['http://hooks.example.com/x'] })).toThrow(/^notify: /);
  });

  test('the constructor names the construct once', () => {
    const stack = new Stack(new App(), 'Team');
    expect(() => new Warehouse(stack, 'Warehouse', { artifactRetention: Duration.hours(36) })).toThrow(
      /^Team\/Warehouse: artifactRetention must be a whole number of days, at least 1 \(got 1 day 12 hours\)$/,
    );
  });
});
