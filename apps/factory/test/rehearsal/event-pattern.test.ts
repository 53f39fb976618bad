import { EventPatternError, matchesEventPattern } from '../../rehearsal/event-pattern';

// The matcher against the examples of EventBridge's "Content filtering in event patterns"
// and "Comparison operators" pages, and against the rules the factory's templates hold.

const ec2 = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated', 'c-count': 5, 'source-ip': '10.0.0.255', FileName: 'photo.PNG', service: 'EventBridge' },
};

test.each([
  ['exact value', { source: ['aws.ec2'] }, true],
  ['exact value, none of the list', { source: ['aws.s3', 'aws.sqs'] }, false],
  ['nested object', { detail: { state: ['terminated'] } }, true],
  ['a field the event lacks', { detail: { missing: ['x'] } }, false],
  ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
  ['prefix, other', { time: [{ prefix: '2017-10-02' }] }, false],
  ['prefix ignoring case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] } }, true],
  ['suffix', { detail: { FileName: [{ suffix: '.png' }] } }, false],
  ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, true],
  ['anything-but a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
  ['anything-but a list holding the value', { detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, false],
  ['anything-but a prefix', { region: [{ 'anything-but': { prefix: 'us-' } }] }, false],
  ['anything-but ignoring case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'TERMINATED' } }] } }, false],
  ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
  ['numeric range, outside', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false],
  ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
  ['cidr, outside', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
  ['exists true', { detail: { state: [{ exists: true }] } }, true],
  ['exists false on a missing field', { detail: { 'no-such-field': [{ exists: false }] } }, true],
  ['exists false on a present field', { detail: { state: [{ exists: false }] } }, false],
  ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'TERMINATED' }] } }, true],
  ['wildcard', { detail: { FileName: [{ wildcard: 'photo.*' }] } }, true],
  ['wildcard, no match', { detail: { FileName: [{ wildcard: '*/lib/*' }] } }, false],
  ['an array in the event: one element matches', { resources: [{ prefix: 'arn:aws:ec2:us-west-1' }] }, true],
  ['$or, second branch', { $or: [{ source: ['aws.s3'] }, { detail: { 'c-count': [5] } }] }, true],
  ['$or, no branch', { $or: [{ source: ['aws.s3'] }, { detail: { 'c-count': [6] } }] }, false],
])('%s', (_name, pattern, expected) => {
  expect(matchesEventPattern(pattern, ec2)).toBe(expected);
});

test('the factory rule shape: an S3 Object Created event of the exact key starts the pipeline; another key does not', () => {
  const pattern = {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: { bucket: { name: ['src'] }, object: { key: ['devcontainers/images/base.zip'] } },
  };
  const event = (key: string) => ({ source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'src' }, object: { key } } });
  expect(matchesEventPattern(pattern, event('devcontainers/images/base.zip'))).toBe(true);
  expect(matchesEventPattern(pattern, event('devcontainers/images/base.zip.tmp'))).toBe(false);
});

test('a pattern that is not an object, or a field that is a scalar, is refused as EventBridge refuses it', () => {
  expect(() => matchesEventPattern(['aws.s3'], ec2)).toThrow(EventPatternError);
  expect(() => matchesEventPattern({ source: 'aws.s3' }, ec2)).toThrow(/must be a list or an object/);
});
