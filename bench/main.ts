/**
 * `make bench`: runs every benchmark in turn on a local control plane and Postgres (started here unless
 * KUBECONFIG / DATABASE_URL name existing ones), prints one table with every figure and its baseline ratio,
 * and writes bench/results/bench.json and bench/results/bench.md. Measures only; nothing asserts, but a
 * benchmark that could not run is reported and makes the exit code 1.
 *
 * Environment: BENCH_SUBSCRIPTIONS (reconcile: comma-separated sizes, each run on its own, default
 * 1000,2000,5000,10000; a heap snapshot of the operator is summarized at the largest), BENCH_STEADY_SECONDS (writes counted at rest after the first size, default 300), BENCH_RSS_SUBSCRIPTIONS (operator memory,
 * default 10000), BENCH_RSS_TIMEOUT_MINUTES (default 30), BENCH_DURATION_SECONDS (each load run, default 10),
 * BENCH_ROUNDS (interleaved load runs, the best kept, default 2), BENCH_UI_RUNS (requests per page, default 20), BENCH_ONLY (comma-separated: portal-api, auth-server,
 * portal-ui, reconcile, operator-memory).
 */
import { cpus } from "node:os";
import { runAuthServerBench } from "./auth-server.bench.ts";
import { compileAsShipped } from "./compiled.ts";
import { envInt, envInts, startInfra } from "./infra.ts";
import { runOperatorRssBench } from "./operator-rss.bench.ts";
import { runPortalApiBench } from "./portal-api.bench.ts";
import { type BenchPortal, startBenchPortal } from "./portal-fixture.ts";
import { runPortalUiBench } from "./portal-ui.bench.ts";
import { runReconcileBench } from "./reconcile.bench.ts";
import { writeResults } from "./results.ts";
import { type BenchResult, formatTable } from "./table.ts";

const BENCHES = ["portal-api", "auth-server", "portal-ui", "reconcile", "operator-memory"] as const;
type BenchName = (typeof BENCHES)[number];

/** The settings of a run, from the environment. */
export function settingsFrom(env: NodeJS.ProcessEnv) {
  const only = (env.BENCH_ONLY ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((name) => !(BENCHES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`BENCH_ONLY names unknown benchmarks (${unknown.join(", ")}); use ${BENCHES.join(", ")}`);
  }
  return {
    benches: (only.length > 0 ? only : [...BENCHES]) as BenchName[],
    subscriptions: envInts(env, "BENCH_SUBSCRIPTIONS", [1000, 2000, 5000, 10_000]),
    steadySeconds: envInt(env, "BENCH_STEADY_SECONDS", 300),
    rssSubscriptions: envInt(env, "BENCH_RSS_SUBSCRIPTIONS", 10_000),
    rssTimeoutMinutes: envInt(env, "BENCH_RSS_TIMEOUT_MINUTES", 30),
    durationSeconds: envInt(env, "BENCH_DURATION_SECONDS", 10),
    rounds: envInt(env, "BENCH_ROUNDS", 2),
    uiRuns: envInt(env, "BENCH_UI_RUNS", 20),
    ownCluster: !env.KUBECONFIG,
  };
}

async function main(): Promise<number> {
  const settings = settingsFrom(process.env);
  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
  const started = Date.now();
  const cluster = settings.benches.includes("reconcile") || settings.benches.includes("operator-memory");
  log(
    `Starting ${settings.ownCluster && cluster ? "a local control plane and " : ""}Postgres (unless given)`,
  );
  const infra = await startInfra(process.env, cluster);
  const results: BenchResult[] = [];
  const failed: string[] = [];
  const attempt = async (name: BenchName, run: () => Promise<BenchResult>) => {
    if (!settings.benches.includes(name)) return;
    const t0 = Date.now();
    log(`Running ${name}`);
    try {
      results.push(await run());
      log(`Finished ${name} in ${Math.round((Date.now() - t0) / 1000)} s`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failed.push(name);
      results.push({ bench: name, figures: [], notes: [`FAILED: ${message.split("\n")[0]}`] });
      log(`${name} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
    }
  };
  try {
    const portalBenches: BenchName[] = ["portal-api", "auth-server", "portal-ui"];
    if (portalBenches.some((b) => settings.benches.includes(b))) {
      let portal: BenchPortal | undefined;
      try {
        portal = await startBenchPortal(infra.databaseUrl);
      } catch (err) {
        for (const name of portalBenches) {
          await attempt(name, () => Promise.reject(err));
        }
      }
      if (portal) {
        const load = { durationSeconds: settings.durationSeconds, rounds: settings.rounds };
        const p = portal;
        try {
          await attempt("portal-api", () => runPortalApiBench(p, load));
          await attempt("auth-server", () => runAuthServerBench(p, load));
          await attempt("portal-ui", () => runPortalUiBench(p, { runs: settings.uiRuns }));
        } finally {
          await portal.stop();
        }
      }
    }
    // The operator runs compiled, as the image runs it.
    const compiled = cluster ? compileAsShipped() : "";
    // Each size on a fresh namespace, operator and Kong double; the steady state is measured at the first.
    for (const [i, count] of settings.subscriptions.entries()) {
      const steadySeconds = i === 0 ? settings.steadySeconds : 0;
      // What holds the operator's memory, at the largest size.
      const heapSnapshot = count === Math.max(...settings.subscriptions);
      await attempt("reconcile", () =>
        runReconcileBench(infra, {
          count,
          steadySeconds,
          compiled,
          heapSnapshot,
          webhooks: settings.ownCluster,
        }),
      );
    }
    await attempt("operator-memory", () =>
      runOperatorRssBench(infra, {
        subscriptions: settings.rssSubscriptions,
        timeoutMs: settings.rssTimeoutMinutes * 60_000,
        cleanup: !settings.ownCluster,
        compiled,
      }),
    );
  } finally {
    await infra.stop();
  }
  const meta = {
    ...settings,
    node: process.version,
    cpus: cpus().length,
    totalSeconds: Math.round((Date.now() - started) / 1000),
    note: "Numbers are noisy: the benchmarks share the machine's cores with whatever else runs on it.",
  };
  writeResults("bench", results, `wicked benchmarks (${new Date().toISOString()})`, meta);
  process.stdout.write(`\n${formatTable(results)}`);
  process.stdout.write(
    `\n${cpus().length} CPUs, node ${process.version}, ${meta.totalSeconds} s; results in bench/results/bench.json and bench.md\n`,
  );
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
