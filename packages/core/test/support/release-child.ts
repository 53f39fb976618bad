/**
 * A separate process that releases one build, as a second `dcf local run` would:
 * `node release-child.js <host> <repository> <buildId> <version> <startAtMs> [lockDir]`.
 * It waits until `startAtMs` (so that two children really run at the same time),
 * then prints one JSON line: `{ ok: true, result }` or `{ ok: false, name, message }`.
 * Bundled by esbuild from the sources in the test that uses it.
 */
import { FileReleaseLock, OciRegistry, releaseImage } from '../../src';

async function main(): Promise<void> {
  const [host, repository, buildId, version, startAt, lockDir] = process.argv.slice(2);
  const registry = new OciRegistry({ host });
  const wait = Number(startAt) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  try {
    const result = await releaseImage(registry, repository, {
      buildId,
      version,
      rules: { latest: true, semver: true, date: false },
      now: new Date(),
      ...(lockDir ? { lock: new FileReleaseLock({ dir: lockDir }) } : {}),
    });
    process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ ok: false, name: (e as Error).name, message: (e as Error).message })}\n`);
    process.exitCode = 1;
  }
}

void main();
