/** The part of autocannon 9's programmatic API the benchmarks use (the package ships no types). */
declare module "autocannon" {
  /** Options of one run. */
  export interface Options {
    url: string;
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Load-generating worker threads; 0 runs on the caller's event loop. */
    workers?: number;
  }

  /** A distribution as autocannon reports it. */
  export interface Histogram {
    average: number;
    p50: number;
    p99: number;
    total: number;
  }

  /** The result of a run. */
  export interface Result {
    requests: Histogram;
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  }

  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
