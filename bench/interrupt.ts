/**
 * Cleanup on Ctrl-C or SIGTERM: a benchmark registers what it started (the control plane, operator
 * processes); the handler stops them newest first and exits, so an interrupted run leaves no processes
 * behind. Registration returns the function that unregisters once the benchmark has stopped them itself.
 */
const cleanups = new Set<() => Promise<void>>();
let installed = false;

/** Runs `cleanup` if the process is interrupted before the returned function is called. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  if (!installed) {
    installed = true;
    const handler = (signal: NodeJS.Signals) => {
      process.stderr.write(`[bench] ${signal}: stopping what the benchmarks started\n`);
      const all = [...cleanups].reverse();
      cleanups.clear();
      Promise.allSettled(all.map((c) => c())).then(() => process.exit(130));
    };
    process.once("SIGINT", handler);
    process.once("SIGTERM", handler);
  }
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
