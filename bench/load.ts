/**
 * HTTP load through autocannon on a worker thread, so the load generator and the server under test (on this
 * process's event loop) do not share a thread: requests per second and latency percentiles of one endpoint.
 */
import autocannon from "autocannon";

/** What to load and for how long. */
export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Concurrent connections; default 10. */
  connections?: number;
  durationSeconds: number;
  /** An unmeasured run first, to warm caches, JIT and pools; default 2 s. */
  warmupSeconds?: number;
}

/** What a load run measured. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers that were not 2xx plus connection errors and timeouts; a bench with any is not valid. */
  failures: number;
}

/** A request did not answer 2xx before the load: measuring it would measure errors. */
export class LoadTargetError extends Error {
  override readonly name = "LoadTargetError";
}

/** Sends one request and fails unless it answers 2xx, so a broken setup is not benchmarked. */
export async function checkTarget(
  opts: Pick<LoadOptions, "url" | "method" | "headers" | "body">,
): Promise<void> {
  const res = await fetch(opts.url, { method: opts.method ?? "GET", headers: opts.headers, body: opts.body });
  const text = await res.text();
  if (!res.ok) {
    throw new LoadTargetError(
      `${opts.method ?? "GET"} ${opts.url} answered ${res.status} before the load: ${text.slice(0, 500)}`,
    );
  }
}

/** Checks the target, warms it up, then measures it. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  await checkTarget(opts);
  const base = {
    url: opts.url,
    method: opts.method ?? "GET",
    headers: opts.headers,
    body: opts.body,
    connections: opts.connections ?? 10,
    workers: 1,
  };
  const warmup = opts.warmupSeconds ?? 2;
  if (warmup > 0) await autocannon({ ...base, duration: warmup });
  const result = await autocannon({ ...base, duration: opts.durationSeconds });
  return {
    requestsPerSecond: result.requests.total / opts.durationSeconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * Loads each target in turn, `rounds` times interleaved (a b a b …), and keeps each target's best round (the
 * most requests per second): on a shared machine the best round is the one least disturbed by others.
 */
export async function bestOfRounds<K extends string>(
  targets: Record<K, LoadOptions>,
  rounds: number,
): Promise<Record<K, LoadResult>> {
  const best = {} as Record<K, LoadResult>;
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(targets) as K[]) {
      const result = await runLoad(targets[name]);
      const previous = best[name] as LoadResult | undefined;
      if (!previous || result.requestsPerSecond > previous.requestsPerSecond) best[name] = result;
    }
  }
  return best;
}
