/**
 * Reconcile benchmark: N Subscriptions from apply to Active with Kong synced (the Kong test double), the
 * Kong and apiserver writes each cost, the writes of a steady-state resync, the operator's memory, and how
 * long deleting the namespace (and so every Subscription's Kong entities) takes. Measures only; nothing
 * here asserts. Alone: tsx bench/reconcile.bench.ts [subscriptions=BENCH_SUBSCRIPTIONS or 1000]
 */
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { startEchoServer } from "../test/kong/contract-support.ts";
import { startKongDouble } from "../test/kong/kong-double.ts";
import type { Json } from "../test/support/cluster.ts";
import { installCrds, kubectl, kubectlOk } from "../test/support/kubectl.ts";
import { startOperatorProcess } from "../test/support/operator-process.ts";
import { apiserverWrites, applyList, sampleOperator, subscriptionStates, waitFor } from "./cluster.ts";
import { envInt, startInfra } from "./infra.ts";
import { onInterrupt } from "./interrupt.ts";
import { isMain, writeResults } from "./results.ts";
import { type BenchResult, formatTable } from "./table.ts";

/** Where the operator benchmarks run. */
export interface ClusterTarget {
  kubeconfig: string;
  databaseUrl: string;
}

/** The namespace's objects a Subscription needs: the ApiPortal, a Plan, an Api and an ApiClient. */
export function portalObjects(portal: Json["spec"], upstreamUrl: string): Json[] {
  return [
    { apiVersion: "wicked.dev/v1alpha1", kind: "ApiPortal", metadata: { name: "portal" }, spec: portal },
    {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "Plan",
      metadata: { name: "basic" },
      spec: { displayName: "Basic", rateLimits: { minute: 100 } },
    },
    {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "Api",
      metadata: { name: "orders" },
      spec: {
        displayName: "Orders",
        upstream: { url: upstreamUrl },
        routes: [{ paths: ["/orders"] }],
        plans: ["basic"],
      },
    },
    {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiClient",
      metadata: { name: "app" },
      spec: { displayName: "App", owner: "dev@example.com" },
    },
  ];
}

/** `count` Subscriptions of the ApiClient `app` to the Api `orders` under the plan `basic`. */
export function subscriptions(count: number): Json[] {
  return Array.from({ length: count }, (_, i) => ({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name: `sub-${i}` },
    spec: { clientRef: { name: "app" }, apiRef: { name: "orders" }, planRef: { name: "basic" } },
  }));
}

/** Creates a namespace with the database Secret `db` the ApiPortal refers to; migrates the database. */
export async function preparedNamespace(target: ClusterTarget, prefix: string): Promise<string> {
  const ns = `${prefix}-${Date.now().toString(36)}`;
  installCrds(target.kubeconfig);
  kubectlOk(target.kubeconfig, ["create", "namespace", ns]);
  const db = createDatabase(target.databaseUrl);
  await migrateToLatest(db);
  await db.destroy();
  kubectlOk(target.kubeconfig, [
    "create",
    "secret",
    "generic",
    "db",
    "-n",
    ns,
    `--from-literal=url=${target.databaseUrl}`,
  ]);
  return ns;
}

/**
 * Deletes every object of the kinds (comma-separated plurals) in the namespace and waits until they are gone
 * (the operator releases them); the seconds it took, or undefined when they were not gone in time.
 */
export async function deleteAll(
  kubeconfig: string,
  ns: string,
  kinds: string,
  timeoutMs: number,
): Promise<number | undefined> {
  const started = Date.now();
  kubectlOk(kubeconfig, ["delete", kinds, "--all", "-n", ns, "--wait=false"]);
  return waitFor(
    `the ${kinds} of ${ns} deleted`,
    () => kubectlOk(kubeconfig, ["get", kinds, "-n", ns, "-o", "name"]).trim() === "",
    timeoutMs,
    3000,
  ).then(
    () => (Date.now() - started) / 1000,
    () => undefined,
  );
}

/**
 * Deletes the namespace the way that lets the operator clean up: Subscriptions first, then the other
 * wicked objects, the ApiPortal last, while its database Secret still exists; then the namespace. Returns
 * how long the Subscriptions took, or undefined when something was not gone in time.
 */
export async function deleteBenchNamespace(
  kubeconfig: string,
  ns: string,
  subscriptionsTimeoutMs: number,
): Promise<number | undefined> {
  const seconds = await deleteAll(kubeconfig, ns, "subscriptions", subscriptionsTimeoutMs);
  const rest = await deleteAll(kubeconfig, ns, "apiclients,apis,plans", 5 * 60_000);
  const portal = await deleteAll(kubeconfig, ns, "apiportals", 5 * 60_000);
  kubectlOk(kubeconfig, ["delete", "namespace", ns, "--wait=false"]);
  return rest === undefined || portal === undefined ? undefined : seconds;
}

/** Runs the reconcile benchmark with `count` Subscriptions; leaves nothing behind in the cluster. */
export async function runReconcileBench(target: ClusterTarget, count: number): Promise<BenchResult> {
  const { kubeconfig } = target;
  const kong = await startKongDouble();
  const echo = await startEchoServer();
  try {
    const ns = await preparedNamespace(target, "bench-reconcile");
    applyList(
      kubeconfig,
      ns,
      portalObjects(
        {
          displayName: "Bench",
          urls: { portal: "https://portal.example.com", gateway: kong.proxyUrl },
          database: { urlSecretRef: { name: "db", key: "url" } },
          gateway: { mode: "External", adminUrl: kong.adminUrl },
        },
        `http://${echo.host}:${echo.port}`,
      ),
    );
    const operator = await startOperatorProcess(kubeconfig, "bench-op", {
      POD_NAMESPACE: ns,
      WICKED_LOG_LEVEL: "warn",
      WICKED_GATEWAY_RESYNC_SECONDS: "30",
    });
    const forget = onInterrupt(() => operator.kill());
    try {
      await waitFor(
        "Api programmed",
        () =>
          kubectl(kubeconfig, [
            "get",
            "apis",
            "orders",
            "-n",
            ns,
            "-o",
            'jsonpath={.status.conditions[?(@.type=="Programmed")].status}',
          ]).stdout === "True",
        120_000,
      );

      kong.resetCounters();
      const writesBefore = apiserverWrites(kubeconfig);
      const started = Date.now();
      applyList(kubeconfig, ns, subscriptions(count));
      const applied = Date.now();
      await waitFor(
        `${count} Subscriptions Active`,
        () => subscriptionStates(kubeconfig, ns).filter((s) => s.phase === "Active").length === count,
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
      const { rssMiB } = await sampleOperator(operator.metricsUrl);

      // Cleanup is measured too: the operator removes every Subscription's Kong entities and read-model row
      // before it releases them. Subscriptions go first, while the ApiPortal and its database Secret exist.
      const deleteSeconds = await deleteBenchNamespace(kubeconfig, ns, Math.max(10 * 60_000, count * 1000));

      return {
        bench: "reconcile",
        figures: [
          { measure: `apply ${count} Subscriptions (kubectl)`, unit: "s", value: (applied - started) / 1000 },
          { measure: `apply → ${count} Active, Kong synced`, unit: "s", value: (converged - started) / 1000 },
          { measure: "Kong writes per Subscription", unit: "writes", value: kongWrites / count },
          { measure: "apiserver writes per Subscription", unit: "writes", value: apiWrites / count },
          { measure: "steady-state Kong writes per minute", unit: "writes", value: steadyKong },
          { measure: "steady-state apiserver writes per minute", unit: "writes", value: steadyApi },
          { measure: `operator RSS, ${count} Subscriptions`, unit: "MiB", value: Math.round(rssMiB) },
          ...(deleteSeconds === undefined
            ? []
            : [
                {
                  measure: `delete ${count} Subscriptions → gone (operator cleanup)`,
                  unit: "s",
                  value: deleteSeconds,
                },
              ]),
        ],
        notes: [
          `${count} Subscriptions of one ApiClient to one Api, gateway External (the in-process Kong test double), gateway resync 30 s; steady state counted over 65 s after 35 s of settling.`,
          ...(deleteSeconds === undefined
            ? [`the wicked objects of namespace ${ns} were not gone in time; delete it by hand.`]
            : []),
        ],
      };
    } finally {
      forget();
      await operator.stop();
    }
  } finally {
    await kong.stop();
    await echo.stop();
  }
}

if (isMain(import.meta.url)) {
  const count = process.argv[2] ? Number(process.argv[2]) : envInt(process.env, "BENCH_SUBSCRIPTIONS", 1000);
  const infra = await startInfra();
  try {
    const result = await runReconcileBench(infra, count);
    writeResults("reconcile", [result], `Reconcile benchmark (${count} subscriptions)`);
    process.stdout.write(`\n${formatTable([result])}`);
  } finally {
    await infra.stop();
  }
}
