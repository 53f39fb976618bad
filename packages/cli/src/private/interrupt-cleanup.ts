/**
 * What must be undone when `dcf` is interrupted (SIGINT, SIGTERM): the registry it
 * started, its temp folders. Commands register a cleanup for as long as the thing
 * exists; the entry point runs them all when a signal arrives, then exits. Nothing
 * here installs a signal handler or exits: `exec` stays a plain function.
 */

type Cleanup = () => unknown;

const cleanups = new Set<Cleanup>();

/**
 * Runs `cleanup` if `dcf` is interrupted before the returned function is called;
 * registered while the others run, it runs once they are done.
 */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/**
 * Runs every registered cleanup once, all at the same time (stopping the registry
 * is what lets a run unwind), until none is left, including ones registered
 * meanwhile; a failing one does not stop the others.
 */
export async function runInterruptCleanups(): Promise<void> {
  while (cleanups.size > 0) {
    const pending = [...cleanups];
    cleanups.clear();
    // Best effort: the process is going away, and every other cleanup still matters.
    await Promise.allSettled(pending.map(async (cleanup) => cleanup()));
  }
}
