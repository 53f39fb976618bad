import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline } from '../src';

// The README's size figures are synthesized, not written: the block between the markers of its
// "## Size" section is what this test computes, so a change in what the construct makes fails here.

const README = join(__dirname, '..', 'README.md');
const START = '<!-- size:start: test/readme-figures.test.ts computes this table -->';
const END = '<!-- size:end -->';

function resourceCounts(props: { dependsOn?: string[] } = {}): Map<string, number> {
  const stack = new Stack(new App(), 'Sized');
  new ImagePipeline(stack, 'Python', { warehouse: Warehouse.fromNamespace(stack, 'Warehouse', 'devcontainers'), imageId: 'python', ...props });
  const counts = new Map<string, number>();
  for (const r of Object.values(Template.fromStack(stack).toJSON().Resources) as { Type: string }[]) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
  return counts;
}

function sizeTable(): string {
  const plain = resourceCounts();
  const withBases = resourceCounts({ dependsOn: ['base'] });
  const types = [...new Set([...plain.keys(), ...withBases.keys()])].sort();
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return [
    START,
    '| resource type | per image (two platforms, with a warehouse) | with `dependsOn` |',
    '|---|---|---|',
    ...types.map((t) => `| \`${t}\` | ${plain.get(t) ?? 0} | ${withBases.get(t) ?? 0} |`),
    `| **total** | **${total(plain)}** | **${total(withBases)}** |`,
    END,
  ].join('\n');
}

test("GIVEN the image pipeline as the README's Size section shows it THEN the README's table is what it synthesizes", () => {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const table = sizeTable();
  // UPDATE_README_FIGURES=1 writes the table; CI never sets it, so a stale README fails there.
  if (process.env.UPDATE_README_FIGURES === '1') writeFileSync(README, readme.slice(0, start) + table + readme.slice(end + END.length));
  else expect(readme.slice(start, end + END.length)).toBe(table);
});
