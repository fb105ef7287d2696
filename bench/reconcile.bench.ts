/**
 * Reconcile benchmark: N Subscriptions from apply to Active with Kong synced (the Kong test double), the
 * Kong and apiserver writes each cost, the writes of a steady-state resync, the operator's memory, and how
 * long deleting the namespace (and so every Subscription's Kong entities) takes. Measures only; nothing
 * here asserts. Alone: tsx bench/reconcile.bench.ts [subscriptions=BENCH_SUBSCRIPTIONS or 1000]; with
 * BENCH_HEAP_SNAPSHOT=1 it also summarizes a heap snapshot of the operator once all are Active;
 * BENCH_OPERATOR_NODE_OPTIONS adds Node options to the operator's (e.g. --cpu-prof).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { startEchoServer } from "../test/kong/contract-support.ts";
import type { Json } from "../test/support/cluster.ts";
import { installCrds, kubectl, kubectlOk } from "../test/support/kubectl.ts";
import { startOperatorProcess } from "../test/support/operator-process.ts";
import {
  applyList,
  createInParallel,
  operatorWrites,
  sampleOperator,
  waitFor,
  watchSubscriptionPhases,
  writesSince,
} from "./cluster.ts";
import { chartOperatorTuning, compileAsShipped } from "./compiled.ts";
import { heapSnapshotOptions, summarizeHeapSnapshot, takeHeapSnapshot } from "./heap-snapshot.ts";
import { envInt, startInfra } from "./infra.ts";
import { onInterrupt } from "./interrupt.ts";
import { startKongProcess } from "./kong-process.ts";
import { isMain, writeResults } from "./results.ts";
import { type BenchResult, formatTable } from "./table.ts";
import { startBenchWebhooks } from "./webhooks.ts";

/** Where the operator benchmarks run. */
export interface ClusterTarget {
  kubeconfig: string;
  databaseUrl: string;
}

/** The Apis the benchmark's Subscriptions spread over; each ApiClient subscribes to each once. */
const APIS = 10;

const apiName = (j: number) => `api-${j}`;
const clientName = (k: number) => `app-${k}`;

/**
 * The namespace's objects `count` Subscriptions need: the ApiPortal, a Plan, APIS Apis and count / APIS
 * ApiClients (an ApiClient subscribes to an Api once: the webhooks refuse a second Subscription).
 */
export function portalObjects(portal: Json["spec"], upstreamUrl: string, count: number): Json[] {
  const wicked = (kind: string, name: string, spec: Json) => ({
    apiVersion: "wicked.dev/v1alpha1",
    kind,
    metadata: { name },
    spec,
  });
  return [
    wicked("ApiPortal", "portal", portal),
    wicked("Plan", "basic", { displayName: "Basic", rateLimits: { minute: 100 } }),
    ...Array.from({ length: APIS }, (_, j) =>
      wicked("Api", apiName(j), {
        displayName: `Api ${j}`,
        upstream: { url: upstreamUrl },
        routes: [{ paths: [`/${apiName(j)}`] }],
        plans: ["basic"],
      }),
    ),
    ...Array.from({ length: Math.ceil(count / APIS) }, (_, k) =>
      wicked("ApiClient", clientName(k), { displayName: `App ${k}`, owner: "dev@example.com" }),
    ),
  ];
}

/** `count` Subscriptions under the plan `basic`: Subscription i is ApiClient i / APIS's to Api i % APIS. */
export function subscriptions(count: number): Json[] {
  return Array.from({ length: count }, (_, i) => ({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name: `sub-${i}` },
    spec: {
      clientRef: { name: clientName(Math.floor(i / APIS)) },
      apiRef: { name: apiName(i % APIS) },
      planRef: { name: "basic" },
    },
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
 * Deletes every object of the wicked kinds (comma-separated plurals) in the namespace and waits until they
 * are gone (the operator releases them); the seconds it took, or undefined when they were not gone in time.
 * One DELETE of each collection: kubectl's `delete --all` sends a request per object, which takes longer
 * than kubectl's time limit here at 10,000 Subscriptions.
 */
export async function deleteAll(
  kubeconfig: string,
  ns: string,
  kinds: string,
  timeoutMs: number,
): Promise<number | undefined> {
  const started = Date.now();
  // The DELETE of ten thousand objects may outlast the apiserver's request timeout: it is sent again (it
  // changes nothing for objects already being deleted) until every object is gone.
  let sentAt = 0;
  const deleteCollections = () => {
    sentAt = Date.now();
    for (const plural of kinds.split(","))
      kubectl(kubeconfig, ["delete", "--raw", `/apis/wicked.dev/v1alpha1/namespaces/${ns}/${plural}`]);
  };
  deleteCollections();
  return waitFor(
    `the ${kinds} of ${ns} deleted`,
    () => {
      if (kubectlOk(kubeconfig, ["get", kinds, "-n", ns, "-o", "name"]).trim() === "") return true;
      if (Date.now() - sentAt > 30_000) deleteCollections();
      return false;
    },
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

/** How one reconcile run is measured. */
export interface ReconcileBenchOptions {
  /** Subscriptions applied at once. */
  count: number;
  /** Seconds of steady state over which writes are counted; 0 skips it. */
  steadySeconds: number;
  /** The project compiled as shipped (compiled.ts), whose operator runs. */
  compiled: string;
  /** Take a heap snapshot of the operator once every Subscription is Active, and summarize it. */
  heapSnapshot?: boolean;
  /** Run the admission webhooks (webhooks.ts); only where the apiserver can reach this host. */
  webhooks?: boolean;
}

/** Runs the reconcile benchmark with `count` Subscriptions; leaves nothing behind in the cluster. */
export async function runReconcileBench(
  target: ClusterTarget,
  { count, steadySeconds, compiled, heapSnapshot = false, webhooks = false }: ReconcileBenchOptions,
): Promise<BenchResult> {
  const { kubeconfig } = target;
  const kong = await startKongProcess();
  let admission: { stop(): Promise<void> } | undefined;
  const snapshotDir = mkdtempSync(join(tmpdir(), "wicked-bench-heap-"));
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
        count,
      ),
    );
    if (webhooks) admission = await startBenchWebhooks(kubeconfig, ns);
    const tuning = chartOperatorTuning();
    const tunedAs = [
      `node ${tuning.nodeFlags.join(" ")}`,
      ...Object.entries(tuning.env).map(([name, value]) => `${name}=${value}`),
    ].join(", ");
    const operator = await startOperatorProcess(
      kubeconfig,
      "bench-op",
      {
        POD_NAMESPACE: ns,
        ...tuning.env,
        WICKED_LOG_LEVEL: "warn",
        WICKED_GATEWAY_RESYNC_SECONDS: "30",
        NODE_OPTIONS: [
          tuning.env.NODE_OPTIONS,
          heapSnapshot ? heapSnapshotOptions(snapshotDir) : "",
          // For example --cpu-prof --cpu-prof-dir=/tmp/profiles: where the operator's time goes.
          process.env.BENCH_OPERATOR_NODE_OPTIONS ?? "",
        ].join(" "),
      },
      compiled,
      tuning.nodeFlags,
    );
    const forget = onInterrupt(() => operator.kill());
    try {
      await waitFor(
        `${APIS} Apis programmed`,
        () =>
          kubectl(kubeconfig, [
            "get",
            "apis",
            "-n",
            ns,
            "-o",
            'jsonpath={.items[*].status.conditions[?(@.type=="Programmed")].status}',
          ])
            .stdout.split(" ")
            .filter((s) => s === "True").length === APIS,
        120_000,
      );
      // The portal's own writes settle first (its Deployments, the status of its Apis and ApiClients), so
      // they are not counted.
      await waitFor(
        "the operator idle",
        async () => {
          const { queued, busy } = await sampleOperator(operator.metricsUrl);
          return queued === 0 && busy === 0;
        },
        300_000,
        1000,
      );
      await new Promise((r) => setTimeout(r, 5000));

      await kong.resetCounters();
      const writesBefore = await operatorWrites(operator.metricsUrl);
      const started = Date.now();
      await createInParallel(kubeconfig, ns, subscriptions(count));
      const applied = Date.now();
      // Watched from here (not during the create: kubectl blocks the benchmark, and its watch would lag).
      const phases = watchSubscriptionPhases(kubeconfig, ns);
      try {
        await waitFor(
          `${count} Subscriptions Active`,
          () => phases.count("Active") === count,
          60 * 60_000,
          200,
        );
      } finally {
        phases.stop();
      }
      const converged = Date.now();
      const kongWrites = await kong.writes();
      const writes = writesSince(writesBefore, await operatorWrites(operator.metricsUrl));
      const { rssMiB, heapUsedMiB, heapTotalMiB, externalMiB } = await sampleOperator(operator.metricsUrl);
      const heap = heapSnapshot
        ? summarizeHeapSnapshot(await takeHeapSnapshot(operator.pid, snapshotDir))
        : undefined;

      const steady: BenchResult["figures"] = [];
      if (steadySeconds > 0) {
        // Let a full gateway resync (30 s) and the informers settle, then count writes.
        await new Promise((r) => setTimeout(r, 35_000));
        await kong.resetCounters();
        const before = await operatorWrites(operator.metricsUrl);
        await new Promise((r) => setTimeout(r, steadySeconds * 1000));
        const perMinute = (n: number) => (n * 60) / steadySeconds;
        steady.push(
          {
            measure: `steady state, ${count} Subscriptions: Kong writes per minute (over ${steadySeconds} s)`,
            unit: "writes",
            value: perMinute(await kong.writes()),
          },
          {
            measure: `steady state, ${count} Subscriptions: operator apiserver writes per minute (over ${steadySeconds} s)`,
            unit: "writes",
            value: perMinute(writesSince(before, await operatorWrites(operator.metricsUrl)).total),
          },
        );
      }

      // Cleanup is measured too: the operator removes every Subscription's Kong entities and read-model row
      // before it releases them. Subscriptions go first, while the ApiPortal and its database Secret exist.
      const deleteSeconds = await deleteBenchNamespace(
        kubeconfig,
        ns,
        Math.max(10 * 60_000, count * 200),
      ).catch(() => undefined);

      return {
        bench: `reconcile ${count}`,
        figures: [
          {
            measure: `create ${count} Subscriptions (kubectl)`,
            unit: "s",
            value: (applied - started) / 1000,
          },
          {
            measure: `last create accepted → ${count} Active, Kong synced`,
            unit: "s",
            value: (converged - applied) / 1000,
          },
          { measure: "Kong writes per Subscription", unit: "writes", value: kongWrites / count },
          {
            measure: "operator apiserver writes per Subscription",
            unit: "writes",
            value: writes.total / count,
          },
          ...steady,
          { measure: `operator RSS, ${count} Subscriptions`, unit: "MiB", value: Math.round(rssMiB) },
          {
            measure: `operator heap used, ${count} Subscriptions`,
            unit: "MiB",
            value: Math.round(heapUsedMiB),
          },
          {
            measure: `operator heap reserved, ${count} Subscriptions`,
            unit: "MiB",
            value: Math.round(heapTotalMiB),
          },
          {
            measure: `operator external memory, ${count} Subscriptions`,
            unit: "MiB",
            value: Math.round(externalMiB),
          },
          ...(heap
            ? [
                {
                  measure: `operator live heap (heap snapshot), ${count} Subscriptions`,
                  unit: "MiB",
                  value: Math.round(heap.liveMiB),
                },
              ]
            : []),
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
          `${count} Subscriptions, created at once (4 kubectl processes, 200 per call), of ${Math.ceil(count / APIS)} ApiClients to ${APIS} Apis; gateway External (the Kong test double in a process of its own), gateway resync 30 s; the operator compiled and tuned as the chart runs it (${tunedAs}); admission webhooks ${webhooks ? "installed by the chart and served by `wicked webhooks` (they add the finalizer at creation)" : "not run (the operator adds the finalizer with a write of its own)"}. Operator writes from its own wicked_apiserver_writes_total, without its leader-election Lease renewals: ${writes.byResource.map(([r, n]) => `${r} ${(n / count).toFixed(2)}`).join(", ")} per Subscription.`,
          ...(heap ? [`heap snapshot of the operator at ${count} Subscriptions:`, ...heap.summary] : []),
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
    await admission?.stop();
    await kong.stop();
    await echo.stop();
  }
}

if (isMain(import.meta.url)) {
  const count = process.argv[2] ? Number(process.argv[2]) : envInt(process.env, "BENCH_SUBSCRIPTIONS", 1000);
  const infra = await startInfra();
  try {
    const result = await runReconcileBench(infra, {
      count,
      steadySeconds: envInt(process.env, "BENCH_STEADY_SECONDS", 300),
      compiled: compileAsShipped(),
      heapSnapshot: process.env.BENCH_HEAP_SNAPSHOT === "1",
      webhooks: !process.env.KUBECONFIG,
    });
    writeResults("reconcile", [result], `Reconcile benchmark (${count} subscriptions)`);
    process.stdout.write(`\n${formatTable([result])}`);
  } finally {
    await infra.stop();
  }
}
