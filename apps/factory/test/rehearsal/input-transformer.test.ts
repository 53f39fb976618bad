import { transformInput, valueAtPath } from '../../rehearsal/input-transformer';

// The input transformer against the examples of EventBridge's "Amazon EventBridge input
// transformation" page, and the shape of the factory's failure message.

const event = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING', count: 3, tags: { team: 'platform' } },
};
const paths = { instance: '$.detail.instance-id', state: '$.detail.state' };

test('a value inside a quoted string goes in as text', () => {
  expect(transformInput(event, { paths, template: '"instance <instance> is in <state>"' })).toBe('"instance i-0123456789 is in RUNNING"');
});

test('a value outside quotes goes in as JSON: a string quoted, a number and an object as they are', () => {
  const out = transformInput(event, {
    paths: { ...paths, count: '$.detail.count', tags: '$.detail.tags' },
    template: '{"instance": <instance>, "state": <state>, "count": <count>, "tags": <tags>}',
  });
  expect(JSON.parse(out)).toEqual({ instance: 'i-0123456789', state: 'RUNNING', count: 3, tags: { team: 'platform' } });
});

test('a path the event does not have is null outside quotes and empty text inside them', () => {
  const out = transformInput(event, { paths: { missing: '$.detail.execution-result.error-code' }, template: '{"code": <missing>, "line": "code <missing>."}' });
  expect(JSON.parse(out)).toEqual({ code: null, line: 'code .' });
});

test('text with quotes and backslashes stays valid JSON inside a string', () => {
  const out = transformInput({ detail: { summary: 'exit "1"\\n' } }, { paths: { s: '$.detail.summary' }, template: '{"summary": "<s>", "raw": <s>}' });
  expect(JSON.parse(out)).toEqual({ summary: 'exit "1"\\n', raw: 'exit "1"\\n' });
});

test('a placeholder without a path, and an escaped quote in the template, stay as written', () => {
  expect(transformInput(event, { paths, template: '"<other> \\"<state>\\""' })).toBe('"<other> \\"RUNNING\\""');
});

test('valueAtPath reads dotted paths and refuses other JSON paths', () => {
  expect(valueAtPath(event, '$.detail.tags.team')).toBe('platform');
  expect(valueAtPath(event, '$.detail.state.more')).toBeUndefined();
  expect(valueAtPath(event, '$')).toBe(event);
  expect(() => valueAtPath(event, 'detail.state')).toThrow(/is not a JSON path/);
});
