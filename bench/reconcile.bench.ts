/**
 * Reconcile benchmark: N Subscriptions from apply to Active with Kong synced (the Kong test double), the
 * Kong and apiserver writes each cost, the writes of a steady-state resync, and the operator's memory.
 * Measures only; nothing here asserts. Usage: tsx bench/reconcile.bench.ts [subscriptions=1000]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { startControlPlane } from "../hack/controlplane/controlplane.ts";
import { startEchoServer } from "../test/kong/contract-support.ts";
import { startKongDouble } from "../test/kong/kong-double.ts";
import { type Json, listObjects } from "../test/support/cluster.ts";
import { installCrds, kubectlOk } from "../test/support/kubectl.ts";
import { metricValue, startOperatorProcess } from "../test/support/operator-process.ts";
import { startPostgres } from "../test/support/postgres.ts";

const count = Number(process.argv[2] ?? process.env.BENCH_SUBSCRIPTIONS ?? 1000);

/** Writes the apiserver served (POST, PUT, PATCH, DELETE, APPLY), excluding Lease renewals, from its metrics. */
function apiserverWrites(kubeconfig: string): number {
  const text = kubectlOk(kubeconfig, ["get", "--raw", "/metrics"]);
  let sum = 0;
  for (const m of text.matchAll(/^apiserver_request_total\{(.*)\} (\d+)$/gm)) {
    const labels = m[1] ?? "";
    if (!/verb="(POST|PUT|PATCH|DELETE|APPLY)"/.test(labels) || labels.includes('resource="leases"'))
      continue;
    sum += Number(m[2]);
  }
  return sum;
}

function applyList(kubeconfig: string, ns: string, items: Json[]): void {
  for (let i = 0; i < items.length; i += 200) {
    kubectlOk(
      kubeconfig,
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: items.slice(i, i + 200) }),
    );
  }
}

async function main(): Promise<void> {
  const cp = process.env.KUBECONFIG ? undefined : await startControlPlane();
  const kubeconfig = process.env.KUBECONFIG ?? cp?.kubeconfig ?? "";
  const pg = process.env.DATABASE_URL ? undefined : await startPostgres();
  const databaseUrl = process.env.DATABASE_URL ?? pg?.url ?? "";
  const kong = await startKongDouble();
  const echo = await startEchoServer();
  const ns = `bench-${Date.now().toString(36)}`;
  try {
    installCrds(kubeconfig);
    kubectlOk(kubeconfig, ["create", "namespace", ns]);
    const db = createDatabase(databaseUrl);
    await migrateToLatest(db);
    await db.destroy();
    kubectlOk(kubeconfig, [
      "create",
      "secret",
      "generic",
      "db",
      "-n",
      ns,
      `--from-literal=url=${databaseUrl}`,
    ]);
    const meta = (name: string) => ({ name });
    applyList(kubeconfig, ns, [
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiPortal",
        metadata: meta("portal"),
        spec: {
          displayName: "Bench",
          urls: { portal: "https://portal.example.com", gateway: kong.proxyUrl },
          database: { urlSecretRef: { name: "db", key: "url" } },
          gateway: { mode: "External", adminUrl: kong.adminUrl },
        },
      },
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Plan",
        metadata: meta("basic"),
        spec: { displayName: "Basic", rateLimits: { minute: 100 } },
      },
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Api",
        metadata: meta("orders"),
        spec: {
          displayName: "Orders",
          upstream: { url: `http://${echo.host}:${echo.port}` },
          routes: [{ paths: ["/orders"] }],
          plans: ["basic"],
        },
      },
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiClient",
        metadata: meta("app"),
        spec: { displayName: "App", owner: "dev@example.com" },
      },
    ]);
    const operator = await startOperatorProcess(kubeconfig, "bench-op", {
      POD_NAMESPACE: ns,
      WICKED_LOG_LEVEL: "warn",
      WICKED_GATEWAY_RESYNC_SECONDS: "30",
    });
    const waitFor = async (what: string, probe: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs / 1000}s`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    await waitFor(
      "Api programmed",
      () =>
        listObjects(kubeconfig, "apis", ns).every((a) =>
          a.status?.conditions?.some((c: Json) => c.type === "Programmed" && c.status === "True"),
        ),
      120_000,
    );

    kong.resetCounters();
    const writesBefore = apiserverWrites(kubeconfig);
    const started = Date.now();
    const subs = Array.from({ length: count }, (_, i) => ({
      apiVersion: "wicked.dev/v1alpha1",
      kind: "Subscription",
      metadata: meta(`sub-${i}`),
      spec: { clientRef: { name: "app" }, apiRef: { name: "orders" }, planRef: { name: "basic" } },
    }));
    applyList(kubeconfig, ns, subs);
    const applied = Date.now();
    await waitFor(
      `${count} Subscriptions Active`,
      () =>
        listObjects(kubeconfig, "subscriptions", ns).filter((s) => s.status?.phase === "Active").length ===
        count,
      60 * 60_000,
    );
    const converged = Date.now();
    const kongWrites = kong.writes;
    const apiWrites = apiserverWrites(kubeconfig) - writesBefore;

    // Steady state: let a full gateway resync (30 s) and the informers settle, then count writes over a minute.
    await new Promise((r) => setTimeout(r, 35_000));
    kong.resetCounters();
    const steadyBefore = apiserverWrites(kubeconfig);
    await new Promise((r) => setTimeout(r, 65_000));
    const steadyKong = kong.writes;
    const steadyApi = apiserverWrites(kubeconfig) - steadyBefore;
    const metrics = await (await fetch(operator.metricsUrl)).text();
    const rssMiB = metricValue(metrics, "process_resident_memory_bytes") / 1024 / 1024;
    await operator.stop();

    const results = {
      date: new Date().toISOString(),
      subscriptions: count,
      applySeconds: (applied - started) / 1000,
      applyToActiveSeconds: (converged - started) / 1000,
      kongWritesPerSubscription: kongWrites / count,
      apiserverWritesPerSubscription: apiWrites / count,
      steadyStateKongWritesPerMinute: steadyKong,
      steadyStateApiserverWritesPerMinute: steadyApi,
      operatorRssMiB: Math.round(rssMiB),
    };
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/reconcile.json", `${JSON.stringify(results, null, 2)}\n`);
    const table = Object.entries(results)
      .map(([k, v]) => `| ${k} | ${v} |`)
      .join("\n");
    writeFileSync(
      "bench/results/reconcile.md",
      `# Reconcile benchmark\n\n| measure | value |\n|---|---|\n${table}\n`,
    );
    console.log(`\nReconcile benchmark (${count} subscriptions)\n${table}\n`);
  } finally {
    await kong.stop();
    await echo.stop();
    await pg?.stop();
    await cp?.stop();
  }
}

await main();
