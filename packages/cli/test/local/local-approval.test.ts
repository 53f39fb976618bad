import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalNote, readLocalCatalog } from '../../src/local/local-catalog';

// `dcf local` does not model manual approvals: whoever runs it would be the approver, so it treats each as given, and says so.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcf-local-approval-'));
  mkdirSync(join(dir, 'images', 'python', '.devcontainer'), { recursive: true });
  writeFileSync(join(dir, 'images', 'python', '.devcontainer', 'devcontainer.json'), '{ "image": "debian:12" }');
  mkdirSync(join(dir, 'images', 'node', '.devcontainer'), { recursive: true });
  writeFileSync(join(dir, 'images', 'node', '.devcontainer', 'devcontainer.json'), '{ "image": "debian:12" }');
  mkdirSync(join(dir, 'features', 'hello'), { recursive: true });
  writeFileSync(join(dir, 'features', 'hello', 'devcontainer-feature.json'), '{ "id": "hello", "version": "1.0.0" }');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('GIVEN catalogue entries with approval: true THEN the local catalogue keeps it and the run says it is treated as given', () => {
  writeFileSync(
    join(dir, 'catalog.yaml'),
    ['images:', '  - id: python', '    approval: true', '  - node', 'features:', '  - id: hello', '    approval: true'].join('\n'),
  );
  const catalog = readLocalCatalog(dir);
  expect(catalog.images.map((i) => [i.id, i.approval ?? false])).toEqual([
    ['python', true],
    ['node', false],
  ]);
  expect(catalog.features.map((f) => [f.id, f.approval ?? false])).toEqual([['hello', true]]);
  expect(approvalNote(catalog)).toBe(
    'approval: feature hello, image python ask for a manual approval before Release (Publish for a feature) in the cloud; dcf local treats it as given, since you run it',
  );
});

test('GIVEN no entry with approval THEN nothing is said', () => {
  writeFileSync(join(dir, 'catalog.yaml'), 'images: [python, node]\nfeatures: [hello]\n');
  expect(approvalNote(readLocalCatalog(dir))).toBeUndefined();
});
