import { notificationEndpointProblem, notificationEndpointsProblem, notificationProtocol } from '../src';

describe('notification endpoints', () => {
  test.each(['platform@example.com', 'first.last+factory@mail.example.co.uk', 'https://hooks.example.com/factory', 'https://example.com:8443/a?b=c'])(
    '%s is accepted',
    (endpoint) => {
      expect(notificationEndpointProblem(endpoint)).toBeUndefined();
    },
  );

  test('an https URL is delivered over https, anything else accepted by email', () => {
    expect(notificationProtocol('https://hooks.example.com/x')).toBe('https');
    expect(notificationProtocol('HTTPS://hooks.example.com/x')).toBe('https');
    expect(notificationProtocol('platform@example.com')).toBe('email');
  });

  test.each<[string, RegExp]>([
    ['', /empty: give an email address or an https:\/\/ URL/],
    ['   ', /empty/],
    [' platform@example.com', /has spaces around it/],
    ['http://hooks.example.com/factory', /is not an https:\/\/ URL: SNS would send the failures in clear text/],
    ['ftp://example.com', /is not an https:\/\/ URL/],
    ['https://', /is not a URL/],
    ['platform', /'platform' is neither an email address \(name@example.com\) nor an https:\/\/ URL/],
    ['platform@localhost', /neither an email address/],
    ['a@b@example.com', /neither an email address/],
    ['a@example.com,b@example.com', /neither an email address/],
    [`${'a'.repeat(250)}@example.com`, /is 262 characters long; the limit is 254/],
  ])('%j is refused: %s', (endpoint, message) => {
    expect(notificationEndpointProblem(endpoint)).toMatch(message);
  });

  test('a list names its first bad endpoint, or one given twice', () => {
    expect(notificationEndpointsProblem([])).toBeUndefined();
    expect(notificationEndpointsProblem(['a@example.com', 'https://hooks.example.com/x'])).toBeUndefined();
    expect(notificationEndpointsProblem(['a@example.com', 'nobody'])).toMatch(/'nobody' is neither/);
    expect(notificationEndpointsProblem(['a@example.com', 'A@Example.com'])).toBe("'A@Example.com' is named more than once: name each endpoint once");
  });
});
