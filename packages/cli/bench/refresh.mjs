// Benchmark: the time of a refresh in which nothing moved. Builds the example
// catalogue once into a fresh local registry, then runs `dcf local run` on it again
// (features are republished as unchanged, every image's Prepare resolves its inputs
// and finds the build released, Release moves nothing) and prints the time of each
// image's stages and of the whole run. Figures only: nothing here asserts on time.
// Then Prepare alone on two configurations the example catalogue does not have, a
// feature lockfile and a Docker Compose service built from its Dockerfile, against the
// same registry: a first Prepare, then refreshes in which nothing moved.
// Usage: node packages/cli/bench/refresh.mjs [runs]   (after the packages are built)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEVCONTAINER_ARTIFACT, OciRegistry, prepareImage, startLocalRegistryServer, writeZip } from '@devcontainer-factory/core';

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
  await prepareBench(server.host);
} finally {
  await server.stop();
}

/** A one-layer image pushed to the local registry, as a stand-in for a real one. */
async function pushStandIn(registry, repository, tag, content) {
  const pushed = await registry.pushImage(repository, tag, {
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
    layers: [{ bytes: Buffer.from(content) }],
  });
  return pushed.digest;
}

/** A feature artifact shaped as `devcontainer features publish` writes it (its definition in the manifest's annotation), as Prepare reads its options from it. */
async function pushFeatureStandIn(registry, repository, tag, id) {
  const pushed = await registry.pushImage(repository, tag, {
    config: Buffer.from('{}'),
    configMediaType: DEVCONTAINER_ARTIFACT.configMediaType,
    layers: [{ bytes: Buffer.from(`feature ${id}`), mediaType: DEVCONTAINER_ARTIFACT.featureLayerMediaType }],
    annotations: { [DEVCONTAINER_ARTIFACT.metadataAnnotation]: JSON.stringify({ id, version: '1.0.0', options: {} }) },
  });
  return pushed.digest;
}

async function prepareBench(host) {
  const registry = new OciRegistry({ host });
  const base = `${host}/bench/upstream/python:3.12`;
  await pushStandIn(registry, 'bench/upstream/python', '3.12', 'python 3.12');
  const features = ['node', 'python', 'common-utils'];
  const locked = {};
  for (const id of features) locked[id] = await pushFeatureStandIn(registry, `bench/features/${id}`, '1', id);
  const ref = (id) => `\${localEnv:DCF_REGISTRY}/bench/features/${id}:1`;
  const resolved = (id) => `${host}/bench/features/${id}`;
  const configurations = {
    lockfile: {
      '.devcontainer/devcontainer.json': JSON.stringify({ image: base, features: { [ref('node')]: {}, [ref('python')]: {} } }, null, 2),
      '.devcontainer/devcontainer-lock.json': JSON.stringify({
        features: {
          [`${host}/bench/features/node:1`]: { version: '1.0.0', resolved: `${resolved('node')}@${locked.node}`, integrity: locked.node, dependsOn: [`${host}/bench/features/common-utils:1`] },
          [`${host}/bench/features/python:1`]: { version: '1.0.0', resolved: `${resolved('python')}@${locked.python}`, integrity: locked.python },
          [`${host}/bench/features/common-utils:1`]: { version: '1.0.0', resolved: `${resolved('common-utils')}@${locked['common-utils']}`, integrity: locked['common-utils'] },
        },
      }, null, 2),
    },
    compose: {
      '.devcontainer/devcontainer.json': JSON.stringify({ dockerComposeFile: 'docker-compose.yml', service: 'app', features: { [ref('node')]: {} } }, null, 2),
      '.devcontainer/docker-compose.yml': ['services:', '  app:', '    build:', '      context: ..', '      dockerfile: .devcontainer/Dockerfile', '  db:', '    image: postgres:${PG_VERSION:-16}', ''].join('\n'),
      '.devcontainer/Dockerfile': [`ARG BASE=${base}`, 'FROM $BASE', 'RUN true', ''].join('\n'),
    },
  };
  console.log(`Prepare alone, ${runs} refreshes with nothing moved after a first one (local registry; zip read, inputs read and resolved, build id, released check):`);
  for (const [name, files] of Object.entries(configurations)) {
    const zip = writeZip({ files: new Map(Object.entries(files).map(([p, t]) => [p, Buffer.from(t)])), executables: new Set() });
    const prepare = async () => {
      const start = process.hrtime.bigint();
      const prepared = await prepareImage(registry, { zip, repository: `bench/images/${name}`, namespace: 'bench' });
      return { ms: Number(process.hrtime.bigint() - start) / 1e6, prepared };
    };
    const first = await prepare();
    const times = [];
    for (let i = 0; i < runs; i++) {
      const again = await prepare();
      if (again.prepared.buildId !== first.prepared.buildId) throw new Error(`${name}: the build id moved with nothing moved (${first.prepared.buildId} → ${again.prepared.buildId})`);
      times.push(again.ms);
    }
    const inputs = first.prepared.inputs.map((i) => `${i.kind} ${i.reference.replace(`${host}/`, '')}`).join(', ');
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    console.log(`  ${name.padEnd(9)} ${first.prepared.inputs.length} inputs (${inputs}): first ${first.ms.toFixed(0)} ms, refresh median ${median.toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
  }
}
