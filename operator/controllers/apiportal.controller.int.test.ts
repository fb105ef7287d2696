/**
 * The ApiPortal controller against the real apiserver, a real Postgres and the Kong test double, with the
 * operator running as its own process like in a Deployment.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import YAML from "yaml";
import { migrations } from "../../db/migrations/index.ts";
import { type KongDouble, startKongDouble } from "../../test/kong/kong-double.ts";
import { conditionOf, getObject, type Json, eventually as waitUntil } from "../../test/support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { createNamespace, installCrds, kubectlOk } from "../../test/support/kubectl.ts";
import {
  metricValue,
  type OperatorProcess,
  startOperatorProcess,
} from "../../test/support/operator-process.ts";

const kubeconfig = inject("kubeconfig");
const COMPONENTS = ["portal-ui", "portal-api", "auth-server"];
let namespace: string;
/** One portal per namespace: the namespace of each portal the tests create. */
const namespaces: Record<string, string> = {};
const nsOf = (portal: string): string => namespaces[portal] ?? namespace;
let database: TestDatabase;
let kong: KongDouble;
const operators: OperatorProcess[] = [];

const get = (kind: string, name: string, ns = namespace): Json | undefined =>
  getObject(kubeconfig, kind, name, ns);
const condition = (name: string, type: string): Json | undefined =>
  conditionOf(get("apiportal", name, nsOf(name)), type);
const eventually = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, () => operators.map((o) => o.logs().slice(-3000)).join("\n---\n"));

function portalManifest(name: string, spec: Json = {}): string {
  const docs = YAML.parseAllDocuments(readFileSync("config/samples/apiportal.yaml", "utf8")).map((d) =>
    d.toJS(),
  );
  const portal = docs.find((d) => d.kind === "ApiPortal");
  portal.metadata = { name };
  portal.spec.gateway = { mode: "External", adminUrl: kong.adminUrl };
  portal.spec.database.urlSecretRef = { name: `${name}-db`, key: "url" };
  Object.assign(portal.spec, spec);
  return JSON.stringify(portal);
}

function createDatabaseSecret(name: string, url: string): void {
  const ns = nsOf(name);
  const secret = kubectlOk(kubeconfig, [
    "create",
    "secret",
    "generic",
    `${name}-db`,
    "-n",
    ns,
    `--from-literal=url=${url}`,
    "--dry-run=client",
    "-o",
    "json",
  ]);
  kubectlOk(kubeconfig, ["apply", "-n", ns, "-f", "-"], secret);
}

/** Creates a portal (and its database Secret) in a namespace of its own. */
function createPortal(name: string, databaseUrl: string, spec: Json = {}): void {
  namespaces[name] ??= name === "shop" ? namespace : createNamespace(kubeconfig, name);
  createDatabaseSecret(name, databaseUrl);
  kubectlOk(kubeconfig, ["apply", "-n", nsOf(name), "-f", "-"], portalManifest(name, spec));
}

/** Does what the Deployment controller and kubelets would: reports every replica available. */
function makeAvailable(portal: string): void {
  const ns = nsOf(portal);
  for (const c of COMPONENTS) {
    const d = get("deployment", `${portal}-${c}`, ns);
    if (!d) continue;
    const replicas = d.spec.replicas;
    const status = {
      observedGeneration: d.metadata.generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    };
    kubectlOk(kubeconfig, [
      "patch",
      "deployment",
      `${portal}-${c}`,
      "-n",
      ns,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
  }
}

/**
 * Deletes a portal and waits until it is gone. kubectl runs synchronously, so `--wait` would block this
 * process, where the Kong test double must answer the finalizer's requests.
 */
async function deletePortal(name: string): Promise<void> {
  kubectlOk(kubeconfig, ["delete", "apiportal", name, "-n", nsOf(name), "--wait=false"]);
  await eventually(`deletion of ${name}`, () => !get("apiportal", name, nsOf(name)));
}

async function startOperator(identity: string, env: Record<string, string> = {}): Promise<OperatorProcess> {
  const op = await startOperatorProcess(kubeconfig, identity, { POD_NAMESPACE: namespace, ...env });
  operators.push(op);
  return op;
}

async function metrics(op: OperatorProcess): Promise<string> {
  return (await fetch(op.metricsUrl)).text();
}

beforeAll(async () => {
  installCrds(kubeconfig);
  namespace = createNamespace(kubeconfig, "portal");
  database = await createTestDatabase(inject("databaseUrl"));
  kong = await startKongDouble();
});

afterAll(async () => {
  for (const op of operators) await op.stop();
  if (process.env.WICKED_TEST_LOGS) {
    const { writeFileSync } = await import("node:fs");
    for (const op of operators)
      writeFileSync(`${process.env.WICKED_TEST_LOGS}/${op.identity}.log`, op.logs());
  }
  await kong?.stop();
  await database?.drop();
});

describe("ApiPortal controller", () => {
  it("creates the children with owner references, migrates the database, and moves conditions with their causes", async () => {
    await startOperator("op-a");
    createPortal("shop", database.url);

    const db = await eventually(
      "DatabaseReady=True",
      () => condition("shop", "DatabaseReady")?.status === "True" && condition("shop", "DatabaseReady"),
    );
    expect(db.reason).toBe("Migrated");
    expect(get("apiportal", "shop")?.status?.schemaVersion).toBe(Object.keys(migrations).at(-1));
    const uid = get("apiportal", "shop")?.metadata.uid;
    for (const c of COMPONENTS) {
      for (const kind of ["deployment", "service", "configmap"]) {
        const child = await eventually(`${kind} shop-${c}`, () => get(kind, `shop-${c}`));
        expect(child.metadata.ownerReferences).toEqual([
          expect.objectContaining({ kind: "ApiPortal", name: "shop", uid, controller: true }),
        ]);
      }
    }
    expect(get("secret", "shop-session")?.metadata.ownerReferences[0].uid).toBe(uid);
    expect(condition("shop", "GatewayReady")).toMatchObject({ status: "True", reason: "AdminApiReachable" });

    const unavailable = await eventually("ComponentsAvailable=False", () =>
      condition("shop", "ComponentsAvailable"),
    );
    expect(unavailable).toMatchObject({ status: "False", reason: "ComponentsUnavailable" });
    expect(condition("shop", "Ready")?.status).toBe("False");

    makeAvailable("shop");
    await eventually("Ready=True", () => condition("shop", "Ready")?.status === "True");
    expect(condition("shop", "ComponentsAvailable")?.status).toBe("True");
    const status = get("apiportal", "shop")?.status;
    expect(status.urls.portal).toBe("https://developer.shop.example.com");
    expect(status.components.map((c: Json) => c.name)).toEqual(COMPONENTS);
    kubectlOk(kubeconfig, [
      "wait",
      "--for=condition=Ready",
      "apiportal/shop",
      "-n",
      namespace,
      "--timeout=10s",
    ]);
  });

  it("reports a broken database Secret with a reason a user can act on", async () => {
    createPortal("broken", "postgres://wicked@127.0.0.1:1/wicked");
    const ns = nsOf("broken");
    const failed = await eventually("DatabaseReady=False", () => condition("broken", "DatabaseReady"));
    expect(failed).toMatchObject({ status: "False", reason: "ConnectionFailed" });
    expect(failed.message).toContain("check the host and port in the database Secret");
    // Components are not rolled out on a database that is not migrated.
    expect(get("deployment", "broken-portal-ui", ns)).toBeUndefined();

    kubectlOk(kubeconfig, ["delete", "secret", "broken-db", "-n", ns]);
    const missing = await eventually(
      "SecretNotFound",
      () =>
        condition("broken", "DatabaseReady")?.reason === "SecretNotFound" &&
        condition("broken", "DatabaseReady"),
    );
    expect(missing.message).toBe(`Secret ${ns}/broken-db does not exist; create it with the key url`);

    createDatabaseSecret("broken", database.url);
    await eventually("recovery", () => condition("broken", "DatabaseReady")?.status === "True", 45_000);
    await deletePortal("broken");
  });

  it("rolls exactly the Deployments a spec change concerns", async () => {
    const generations = () =>
      Object.fromEntries(COMPONENTS.map((c) => [c, get("deployment", `shop-${c}`)?.metadata.generation]));
    const before = generations();
    kubectlOk(kubeconfig, [
      "patch",
      "apiportal",
      "shop",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"branding":{"primaryColor":"#112233"}}}',
    ]);
    await eventually("portal-ui rolled", () => generations()["portal-ui"] > before["portal-ui"]);
    await new Promise((r) => setTimeout(r, 3000));
    const after = generations();
    expect(after["portal-api"]).toBe(before["portal-api"]);
    expect(after["auth-server"]).toBe(before["auth-server"]);
    expect(after["portal-ui"]).toBe(before["portal-ui"] + 1);
    makeAvailable("shop");
  });

  it("makes zero apiserver writes when resyncing an unchanged portal", async () => {
    // A second operator with a short resync period takes over, so resyncs happen during the test. It watches
    // this file's namespace only: what earlier suites left behind elsewhere (objects with finalizers in
    // namespaces being deleted) would be its work too.
    await operators[0]?.stop();
    const op = await startOperator("op-resync", {
      WICKED_RESYNC_SECONDS: "2",
      WICKED_WATCH_NAMESPACES: namespace,
    });
    makeAvailable("shop");
    await eventually("Ready again", () => condition("shop", "Ready")?.status === "True");
    const writes = () => operatorWrites(op);
    // Unchanged means settled: the new leader's own first writes (a condition that follows a late event) are
    // over when 3 s pass without a write; then every resync must write nothing.
    let settled = await writes();
    await eventually(
      "no writes for 3 s",
      async () => {
        await new Promise((r) => setTimeout(r, 3000));
        const now = await writes();
        const quiet = JSON.stringify(now) === JSON.stringify(settled);
        settled = now;
        return quiet;
      },
      60_000,
    );
    const reconcilesBefore = metricValue(await metrics(op), "controller_runtime_reconcile_total", {
      controller: "apiportal",
    });
    const writesBefore = await writes();
    await new Promise((r) => setTimeout(r, 8000));
    const reconcilesAfter = metricValue(await metrics(op), "controller_runtime_reconcile_total", {
      controller: "apiportal",
    });
    expect(reconcilesAfter - reconcilesBefore).toBeGreaterThanOrEqual(3);
    expect(await writes()).toEqual(writesBefore);
  });

  it("exposes controller-runtime's metrics", async () => {
    const op = operators.at(-1) as OperatorProcess;
    const text = await metrics(op);
    for (const name of [
      "controller_runtime_reconcile_total",
      "controller_runtime_reconcile_errors_total",
      "controller_runtime_reconcile_time_seconds_bucket",
      "workqueue_depth",
      "workqueue_adds_total",
      "leader_election_master_status",
    ]) {
      expect(text).toContain(name);
    }
  });
  it("converges with no duplicates when the operator is SIGKILLed mid-reconcile", async () => {
    for (const op of operators) await op.stop();
    const first = await startOperator("op-kill-1");
    createPortal("killed", database.url);
    const ns = nsOf("killed");
    await eventually(
      "the first child",
      () => get("secret", "killed-session", ns) || get("secret", "killed-signing-keys", ns),
      30_000,
    );
    await first.kill();
    const signingBefore = get("secret", "killed-signing-keys", ns)?.data;

    await startOperator("op-kill-2");
    await eventually(
      "all Deployments",
      () => COMPONENTS.every((c) => get("deployment", `killed-${c}`, ns)),
      60_000,
    );
    makeAvailable("killed");
    await eventually("Ready=True", () => condition("killed", "Ready")?.status === "True");
    const selector = "app.kubernetes.io/instance=killed";
    const count = (kind: string) =>
      JSON.parse(kubectlOk(kubeconfig, ["get", kind, "-n", ns, "-l", selector, "-o", "json"])).items.length;
    expect(count("deployments")).toBe(3);
    expect(count("services")).toBe(3);
    expect(count("configmaps")).toBe(3);
    expect(count("secrets")).toBe(2);
    if (signingBefore) expect(get("secret", "killed-signing-keys", ns)?.data).toEqual(signingBefore);
    await deletePortal("killed");
  });

  it("runs exactly one leader among two operators, and the other takes over when it dies", async () => {
    for (const op of operators) await op.stop();
    const a = await startOperator("op-la");
    const b = await startOperator("op-lb");
    const holder = () => get("lease", "wicked-operator")?.spec?.holderIdentity as string | undefined;
    const leaderId = await eventually(
      "a leader",
      () => (holder() === "op-la" || holder() === "op-lb") && holder(),
      40_000,
    );
    const [leader, follower] = leaderId === "op-la" ? [a, b] : [b, a];
    kubectlOk(kubeconfig, [
      "patch",
      "apiportal",
      "shop",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"branding":{"primaryColor":"#445566"}}}',
    ]);
    await new Promise((r) => setTimeout(r, 3000));
    expect(metricValue(await metrics(leader), "leader_election_master_status")).toBe(1);
    expect(metricValue(await metrics(follower), "leader_election_master_status")).toBe(0);
    expect(
      metricValue(await metrics(leader), "controller_runtime_reconcile_total", { controller: "apiportal" }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(await metrics(follower), "controller_runtime_reconcile_total", { controller: "apiportal" }),
    ).toBe(0);

    const killedAt = Date.now();
    await leader.kill();
    const lastRenewal = Date.parse(get("lease", "wicked-operator")?.spec.renewTime);
    await eventually("takeover", () => holder() === follower.identity, 30_000);
    const lease = get("lease", "wicked-operator")?.spec;
    const expiredAfterMs = Date.parse(lease.acquireTime) - lastRenewal;
    console.log(
      `Leader ${leader.identity} SIGKILLed; ${follower.identity} took over ${Date.now() - killedAt} ms later, ${expiredAfterMs} ms after the dead leader's last renewal (lease duration ${lease.leaseDurationSeconds} s)`,
    );
    // As in client-go, a follower counts the lease duration from when it saw the last renewal, polling every
    // retry period (2 s) with up to 1.2 × jitter (leaderelection.ts), and takes the lease at its first try
    // after that: between one lease duration and one lease duration plus two jittered periods (2 × 4.4 s)
    // after the last renewal, +1 s for busy CI cores. (The bound used to ignore the jitter: 21.8 s was seen.)
    expect(expiredAfterMs).toBeGreaterThanOrEqual(lease.leaseDurationSeconds * 1000);
    expect(expiredAfterMs).toBeLessThan((lease.leaseDurationSeconds + 2 * 2 * 2.2 + 1) * 1000);
    expect(lease.leaseTransitions).toBeGreaterThanOrEqual(1);

    kubectlOk(kubeconfig, [
      "patch",
      "apiportal",
      "shop",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"branding":{"primaryColor":"#778899"}}}',
    ]);
    await eventually("the new leader reconciles", () =>
      get("configmap", "shop-portal-ui")?.data["config.json"].includes("#778899"),
    );
    makeAvailable("shop");
  });

  it("runs the finalizer on deletion: the portal's Kong entities go, foreign ones stay, and children are collected", async () => {
    const tags = ["managed-by-wicked", `wicked-portal:${namespace}.shop`];
    const post = (path: string, body: Json) =>
      fetch(`${kong.adminUrl}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post("/services", { name: "ours", host: "orders.internal", tags })).status).toBe(201);
    expect((await post("/services/ours/routes", { name: "ours-route", paths: ["/ours"], tags })).status).toBe(
      201,
    );
    expect((await post("/services", { name: "foreign", host: "legacy.internal" })).status).toBe(201);

    await deletePortal("shop");
    const services = (await (await fetch(`${kong.adminUrl}/services`)).json()) as { data: Json[] };
    expect(services.data.map((s) => s.name)).toEqual(["foreign"]);
    expect(((await (await fetch(`${kong.adminUrl}/routes`)).json()) as { data: Json[] }).data).toEqual([]);
    await eventually(
      "children collected",
      () =>
        COMPONENTS.every((c) => !get("deployment", `shop-${c}`) && !get("configmap", `shop-${c}`)) &&
        !get("secret", "shop-session"),
    );
  });
});

/**
 * The operator's own successful writes by resource, without its Lease renewals (its
 * `wicked_apiserver_writes_total`). Not the apiserver's request counts: those also count what the control
 * plane writes on its own meanwhile, such as the scheduler's Events about the portal's unschedulable pods.
 */
async function operatorWrites(op: OperatorProcess): Promise<Record<string, number>> {
  const writes: Record<string, number> = {};
  for (const m of (await metrics(op)).matchAll(
    /^wicked_apiserver_writes_total\{resource="([^"]*)"\} (\d+)$/gm,
  ))
    if (m[1] !== "leases") writes[m[1] ?? ""] = Number(m[2]);
  return writes;
}
