// Benchmark: the time of a refresh in which nothing moved. Builds the example
// catalogue once into a fresh local registry, then runs `dcf local run` on it again
// (features are republished as unchanged, every image's Prepare resolves its inputs
// and finds the build released, Release moves nothing) and prints the time of each
// image's stages and of the whole run. Figures only: nothing here asserts on time.
// Usage: node packages/cli/bench/refresh.mjs [runs]   (after the packages are built)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalRegistryServer } from '@devcontainer-factory/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const dcf = join(root, 'packages/cli/dist/bin/dcf.js');
const runs = Number(process.argv[2] ?? 3);

function localRun(host) {
  const start = process.hrtime.bigint();
  const out = spawnSync(process.execPath, [dcf, 'local', 'run', join(root, 'examples/catalog.yaml'), '--registry', host, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (out.status !== 0) throw new Error(`dcf local run failed (exit ${out.status}):\n${out.stderr.slice(-4000)}`);
  return { ms, result: JSON.parse(out.stdout) };
}

const server = await startLocalRegistryServer({});
try {
  const first = localRun(server.host);
  console.log(`first run (builds everything): ${(first.ms / 1000).toFixed(1)} s, ${first.result.images.length} images, ${first.result.features.length} features`);
  const perImage = new Map();
  let worst = 0;
  for (let i = 0; i < runs; i++) {
    const { ms, result } = localRun(server.host);
    worst = Math.max(worst, ms);
    for (const image of result.images) {
      if (image.status !== 'unchanged') throw new Error(`refresh ${i + 1}: ${image.id} is ${image.status}, expected unchanged (nothing moved)`);
      const stageMs = image.stages.reduce((sum, s) => sum + s.ms, 0);
      perImage.set(image.id, [...(perImage.get(image.id) ?? []), stageMs]);
    }
  }
  console.log(`refresh with nothing moved, ${runs} runs (whole dcf local run, including the CLI start and the features): worst ${(worst / 1000).toFixed(2)} s`);
  for (const [id, times] of perImage) {
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    console.log(`  image ${id.padEnd(10)} validate+pack+prepare+release: median ${median.toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms${median < 1000 ? '  ok (< 1 s per image)' : '  SLOW (goal: < 1 s per image)'}`);
  }
} finally {
  await server.stop();
}
