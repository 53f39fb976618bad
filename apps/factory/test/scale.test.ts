import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addFactory } from '../src/factory';
import type { Catalog } from '../src/catalog';

const afterTest: (() => void)[] = [];
afterEach(() => afterTest.splice(0).forEach((f) => f()));

// CloudFormation quotas a stack must stay inside.
const LIMITS = { resources: 500, outputs: 200, parameters: 200, templateBytes: 1_000_000 };

test('a 500-image / 100-feature catalogue synthesizes with every template inside CloudFormation limits', () => {
  // GIVEN a large catalogue, with base images other images depend on
  const images = Array.from({ length: 500 }, (_, i) => ({ id: `image-${i}`, ...(i >= 10 && { dependsOn: [`image-${i % 10}`] }) }));
  const features = Array.from({ length: 100 }, (_, i) => ({ id: `feature-${i}` }));
  const catalog: Catalog = { namespace: 'scale', images, features, registryScanning: true, blobMounting: true, signing: false };

  // WHEN it is synthesized (with cdk-nag on the whole app)
  const outdir = mkdtempSync(join(tmpdir(), 'factory-scale-'));
  afterTest.push(() => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({ outdir });
  addFactory(app, catalog);
  const assembly = app.synth();

  // THEN every stack is inside the limits, and the warehouse did not grow
  expect(assembly.stacks).toHaveLength(601);
  const worst = { resources: 0, outputs: 0, parameters: 0, templateBytes: 0 };
  for (const stack of assembly.stacks) {
    const t = stack.template;
    const size = {
      resources: Object.keys(t.Resources ?? {}).length,
      outputs: Object.keys(t.Outputs ?? {}).length,
      parameters: Object.keys(t.Parameters ?? {}).length,
      templateBytes: Buffer.byteLength(JSON.stringify(t)),
    };
    for (const k of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
      if (size[k] >= LIMITS[k]) throw new Error(`${stack.stackName}: ${k} ${size[k]} reaches the limit ${LIMITS[k]}`);
      worst[k] = Math.max(worst[k], size[k]);
    }
    expect(JSON.stringify(t)).not.toContain('Fn::ImportValue');
  }
  const warehouse = assembly.getStackByName('scale-warehouse').template;
  // The figures the README states are these, and the same as for two images.
  const [, resources, outputs] = /The warehouse stack holds the same (\d+) resources and (\d+)\s+outputs whether the catalogue has 2 images or 500/.exec(
    readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8'),
  )!;
  const small = new App();
  addFactory(small, { ...catalog, images: images.slice(0, 2), features: features.slice(0, 1) });
  const smallWarehouse = small.synth().getStackByName('scale-warehouse').template;
  expect({ resources: Object.keys(warehouse.Resources).length, outputs: Object.keys(warehouse.Outputs).length }).toEqual({
    resources: Number(resources),
    outputs: Number(outputs),
  });
  expect(Object.keys(smallWarehouse.Resources).length).toBe(Number(resources));
  console.log(`largest stack: ${JSON.stringify(worst)} (limits ${JSON.stringify(LIMITS)})`);
}, 900_000);
