/**
 * Issue 4 against the real apiserver, a real Postgres and the Kong test double: Apis, Plans, ApiClients and
 * Subscriptions become Kong configuration and credentials that work (or stop working) at the gateway.
 */
import { generateKeyPairSync } from "node:crypto";
import { importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../db/connect.ts";
import { migrateToLatest } from "../../db/migrate.ts";
import { type EchoServer, startEchoServer } from "../../test/kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../../test/kong/kong-double.ts";
import { apply, conditionOf, eventually, getObject, type Json } from "../../test/support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { createNamespace, installCrds, kubectl, kubectlOk } from "../../test/support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../../test/support/operator-process.ts";

const kubeconfig = inject("kubeconfig");
const userKubeconfig = inject("userKubeconfig");
let ns: string;
let database: TestDatabase;
let kong: KongDouble;
let echo: EchoServer;
let operator: OperatorProcess;

const get = (kind: string, name: string) => getObject(kubeconfig, kind, name, ns);
const logs = () => operator?.logs().slice(-4000) ?? "";
const wait = <T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 60_000,
) => eventually(what, probe, ms, logs);
const secretValue = (name: string, key: string) => {
  const data = get("secret", name)?.data?.[key];
  return data ? Buffer.from(data, "base64").toString() : undefined;
};

function api(name: string, spec: Json = {}): Json {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Api",
    metadata: { name },
    spec: {
      displayName: name,
      upstream: { url: `http://${echo.host}:${echo.port}` },
      routes: [{ paths: [`/${name}`] }],
      plans: ["basic", "partner", "gold"],
      ...spec,
    },
  };
}
const plan = (name: string, spec: Json) => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind: "Plan",
  metadata: { name },
  spec: { displayName: name, ...spec },
});
const subscription = (name: string, apiName: string, planName: string, spec: Json = {}) => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind: "Subscription",
  metadata: { name },
  spec: { clientRef: { name: "app" }, apiRef: { name: apiName }, planRef: { name: planName }, ...spec },
});

async function call(path: string, headers: Record<string, string> = {}): Promise<number> {
  return (await fetch(`${kong.proxyUrl}${path}`, { headers })).status;
}

async function active(name: string): Promise<Json> {
  return wait(
    `${name} Active`,
    () => get("subscription", name)?.status?.phase === "Active" && get("subscription", name),
  );
}

async function consumersOf(uid: string): Promise<Json[]> {
  const body = (await (await fetch(`${kong.adminUrl}/consumers?custom_id=${uid}`)).json()) as {
    data: Json[];
  };
  return body.data;
}

beforeAll(async () => {
  installCrds(kubeconfig);
  kubectlOk(kubeconfig, ["apply", "-f", "config/admission/"]);
  ns = createNamespace(kubeconfig, "gateway");
  database = await createTestDatabase(inject("databaseUrl"));
  const db = createDatabase(database.url);
  await migrateToLatest(db);
  await db.destroy();
  kong = await startKongDouble();
  echo = await startEchoServer();
  // A service that is not wicked's: it must survive every sync.
  await fetch(`${kong.adminUrl}/services`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "legacy", host: "legacy.internal" }),
  });

  const secret = kubectlOk(kubeconfig, [
    "create",
    "secret",
    "generic",
    "db",
    "-n",
    ns,
    `--from-literal=url=${database.url}`,
    "--dry-run=client",
    "-o",
    "json",
  ]);
  kubectlOk(kubeconfig, ["apply", "-n", ns, "-f", "-"], secret);
  apply(kubeconfig, ns, {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name: "portal" },
    spec: {
      displayName: "Portal",
      urls: { portal: "https://portal.example.com", gateway: kong.proxyUrl },
      database: { urlSecretRef: { name: "db", key: "url" } },
      gateway: { mode: "External", adminUrl: kong.adminUrl },
    },
  });
  apply(kubeconfig, ns, plan("basic", { rateLimits: { minute: 3, day: 5 } }));
  apply(kubeconfig, ns, plan("partner", { requiresApproval: true, rateLimits: { minute: 1000 } }));
  apply(kubeconfig, ns, plan("gold", { rateLimits: { second: 100 } }));
  apply(kubeconfig, ns, {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiClient",
    metadata: { name: "app" },
    spec: { displayName: "App", owner: "dev@example.com" },
  });
  operator = await startOperatorProcess(kubeconfig, "gateway-op", {
    POD_NAMESPACE: ns,
    WICKED_GATEWAY_RESYNC_SECONDS: "3",
  });
  await wait(
    "DatabaseReady",
    () => conditionOf(get("apiportal", "portal"), "DatabaseReady")?.status === "True",
  );
});

afterAll(async () => {
  await operator?.stop();
  if (process.env.WICKED_TEST_LOGS)
    (await import("node:fs")).writeFileSync(
      `${process.env.WICKED_TEST_LOGS}/gateway-op.log`,
      operator?.logs() ?? "",
    );
  await kong?.stop();
  await echo?.stop();
  await database?.drop();
});

describe("gateway", () => {
  it("issues an API key that works at the gateway: 200 with it, 401 without, 403 for another API, 429 beyond the plan", async () => {
    apply(kubeconfig, ns, api("orders"));
    apply(kubeconfig, ns, api("billing"));
    apply(kubeconfig, ns, subscription("app-orders", "orders", "basic"));
    apply(kubeconfig, ns, subscription("app-billing", "billing", "basic"));
    const sub = await active("app-orders");
    await active("app-billing");
    expect(sub.status.credentialsSecret).toBe("app-orders-credentials");
    const key = secretValue("app-orders-credentials", "apiKey") ?? "";
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(secretValue("app-orders-credentials", "apiUrl")).toBe(`${kong.proxyUrl}/orders`);
    expect(JSON.stringify(sub.status)).not.toContain(key);
    expect(operator.logs()).not.toContain(key);

    await wait(
      "the key works",
      async () => (await call("/orders/items", { "X-Api-Key": key })) === 200,
      10_000,
    );
    expect(await call("/orders/items")).toBe(401);
    expect(await call("/billing/items", { "X-Api-Key": key })).toBe(403);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await call("/orders/items", { "X-Api-Key": key }));
    expect(statuses).toContain(429);
    await eventually(
      "Api Ready",
      () => conditionOf(get("api", "orders"), "Ready")?.status === "True",
      30_000,
      () => JSON.stringify(get("api", "orders")?.status),
    );
  });

  it("accepts a JWT signed with the portal's key for the subscription's client id, and refuses the others", async () => {
    apply(kubeconfig, ns, api("weather", { auth: { type: "oauth2" }, plans: ["basic"] }));
    apply(kubeconfig, ns, subscription("app-weather", "weather", "basic"));
    await active("app-weather");
    const clientId = secretValue("app-weather-credentials", "clientId") ?? "";
    expect(secretValue("app-weather-credentials", "clientSecret")?.length).toBeGreaterThanOrEqual(32);
    const jwks = JSON.parse(secretValue("portal-signing-keys", "jwks.json") ?? "{}") as { keys: Json[] };
    const signingKey = await importJWK(jwks.keys[0] as never, "RS256");
    type SigningKey = Parameters<SignJWT["sign"]>[0];
    const token = (claims: Json, key: SigningKey = signingKey, exp = "5m") =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: jwks.keys[0]?.kid })
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(key);
    const bearer = async (t: Promise<string>) => ({ Authorization: `Bearer ${await t}` });

    // Like Kong's router, the double may take a moment to route a new route.
    await wait(
      "the token works",
      async () => (await call("/weather/today", await bearer(token({ client_id: clientId })))) === 200,
      10_000,
    );
    const { privateKey: otherKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(await call("/weather/today", await bearer(token({ client_id: clientId }, otherKey)))).toBe(401);
    expect(
      await call("/weather/today", await bearer(token({ client_id: clientId }, signingKey, "-1m"))),
    ).toBe(401);
    expect(await call("/weather/today", await bearer(token({ client_id: "wk-someone-else" })))).toBe(401);
  });

  it("issues nothing for a plan that requires approval until an approver approves", async () => {
    apply(kubeconfig, ns, subscription("app-orders-partner", "orders", "partner"));
    const pending = await wait(
      "PendingApproval",
      () =>
        get("subscription", "app-orders-partner")?.status?.phase === "PendingApproval" &&
        get("subscription", "app-orders-partner"),
    );
    expect(conditionOf(pending, "Approved")).toMatchObject({ status: "False", reason: "PendingApproval" });
    expect(get("secret", "app-orders-partner-credentials")).toBeUndefined();
    expect(await consumersOf(pending.metadata.uid)).toEqual([]);

    if (userKubeconfig) {
      kubectlOk(kubeconfig, [
        "create",
        "rolebinding",
        "jane-edits",
        "-n",
        ns,
        "--clusterrole=edit",
        "--user=jane@example.com",
      ]);
      kubectlOk(kubeconfig, [
        "create",
        "clusterrole",
        "wicked-edit-subscriptions",
        "--verb=get,list,patch,update",
        "--resource=subscriptions.wicked.dev",
        "--dry-run=client",
        "-o",
        "json",
      ]);
      kubectlOk(kubeconfig, [
        "create",
        "role",
        "edit-subscriptions",
        "-n",
        ns,
        "--verb=get,list,patch,update",
        "--resource=subscriptions.wicked.dev",
      ]);
      kubectlOk(kubeconfig, [
        "create",
        "rolebinding",
        "jane-subscriptions",
        "-n",
        ns,
        "--role=edit-subscriptions",
        "--user=jane@example.com",
      ]);
      const refused = kubectl(userKubeconfig, [
        "patch",
        "subscription",
        "app-orders-partner",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"spec":{"approval":{"decision":"Approved","decidedBy":"jane@example.com","plan":"partner"}}}',
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("only approvers may set spec.approval");
    }
    kubectlOk(kubeconfig, [
      "patch",
      "subscription",
      "app-orders-partner",
      "-n",
      ns,
      "--type=merge",
      "-p",
      '{"spec":{"approval":{"decision":"Approved","decidedBy":"amy@example.com","plan":"partner"}}}',
    ]);
    const approved = await active("app-orders-partner");
    expect(conditionOf(approved, "Approved")).toMatchObject({ status: "True", reason: "Approved" });
    const partnerKey = secretValue("app-orders-partner-credentials", "apiKey") ?? "";
    await wait(
      "the approved key works",
      async () => (await call("/orders/x", { "X-Api-Key": partnerKey })) === 200,
      10_000,
    );
  });

  it("keeps a rejection final and visible", async () => {
    apply(
      kubeconfig,
      ns,
      subscription("app-billing-partner", "billing", "partner", {
        approval: { decision: "Rejected", decidedBy: "amy@example.com", reason: "not a partner" },
      }),
    );
    const rejected = await wait(
      "Rejected",
      () =>
        get("subscription", "app-billing-partner")?.status?.phase === "Rejected" &&
        get("subscription", "app-billing-partner"),
    );
    expect(conditionOf(rejected, "Approved")?.message).toContain("not a partner");
    expect(get("secret", "app-billing-partner-credentials")).toBeUndefined();
  });

  it("security #3: a secretRef works only for a Secret granted to its Subscription, never for another's credentials", async () => {
    apply(kubeconfig, ns, {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiClient",
      metadata: { name: "rival" },
      spec: { displayName: "Rival", owner: "rival@example.com" },
    });
    apply(kubeconfig, ns, api("vault", { plans: ["basic"] }));
    const byo = (name: string, secret: string) => ({
      ...subscription(name, "vault", "basic", { credentials: { secretRef: { name: secret } } }),
      spec: {
        clientRef: { name: "rival" },
        apiRef: { name: "vault" },
        planRef: { name: "basic" },
        credentials: { secretRef: { name: secret } },
      },
    });
    // Named before the victim exists, so no admission rule could see whose it will be.
    apply(kubeconfig, ns, byo("rival-vault", "app-vault-credentials"));
    apply(kubeconfig, ns, subscription("app-vault", "vault", "basic"));
    await active("app-vault");
    const refused = await wait(
      "SecretNotGranted",
      () => {
        const sub = get("subscription", "rival-vault");
        return conditionOf(sub, "CredentialsReady")?.reason === "SecretNotGranted" && sub;
      },
      30_000,
    );
    expect(conditionOf(refused, "CredentialsReady")?.message).toBe(
      `Secret ${ns}/app-vault-credentials belongs to Subscription app-vault, and a Subscription may use only a Secret granted to it`,
    );
    expect(refused.status.phase).not.toBe("Active");
    expect(refused.status.credentialsSecret).toBeUndefined();

    // Its own Secret counts once someone who may write Secrets grants it with the label.
    const ownKey = "rival-own-key-0123456789abcdef";
    kubectlOk(kubeconfig, [
      "create",
      "secret",
      "generic",
      "rival-key",
      "-n",
      ns,
      `--from-literal=apiKey=${ownKey}`,
    ]);
    apply(kubeconfig, ns, byo("rival-vault", "rival-key"));
    await wait("not granted yet", () =>
      conditionOf(get("subscription", "rival-vault"), "CredentialsReady")?.message?.includes(
        "label the Secret wicked.dev/subscription=rival-vault",
      ),
    );
    expect(await call("/vault/x", { "X-Api-Key": ownKey })).toBe(401);
    kubectlOk(kubeconfig, ["label", "secret", "rival-key", "-n", ns, "wicked.dev/subscription=rival-vault"]);
    const granted = await active("rival-vault");
    expect(conditionOf(granted, "CredentialsReady")?.reason).toBe("BringYourOwn");
    await wait(
      "the granted key works",
      async () => (await call("/vault/x", { "X-Api-Key": ownKey })) === 200,
      10_000,
    );
  });

  it("makes zero Kong writes on an unchanged resync, and at most 4 for a new subscription", async () => {
    await new Promise((r) => setTimeout(r, 4000));
    kong.resetCounters();
    await new Promise((r) => setTimeout(r, 8000)); // at least two resyncs (every 3 s)
    expect(kong.writes).toBe(0);
    expect(kong.adminRequests.filter((r) => r.method === "GET").length).toBeGreaterThan(0);

    kong.resetCounters();
    apply(kubeconfig, ns, subscription("app-orders-2", "orders", "basic"));
    await active("app-orders-2");
    await new Promise((r) => setTimeout(r, 4000));
    expect(kong.writes).toBeGreaterThan(0);
    expect(kong.writes).toBeLessThanOrEqual(4);
  });

  it("restores a consumer deleted by hand with a Drifted event, and never touches a foreign service", async () => {
    const sub = get("subscription", "app-orders-2") as Json;
    const [consumer] = await consumersOf(sub.metadata.uid);
    expect(consumer).toBeDefined();
    expect((await fetch(`${kong.adminUrl}/consumers/${consumer?.id}`, { method: "DELETE" })).status).toBe(
      204,
    );
    await wait("the consumer is back", async () => (await consumersOf(sub.metadata.uid)).length === 1);
    const events = JSON.parse(kubectlOk(kubeconfig, ["get", "events.events.k8s.io", "-n", ns, "-o", "json"]))
      .items as Json[];
    await wait("a Drifted event", () =>
      JSON.parse(kubectlOk(kubeconfig, ["get", "events.events.k8s.io", "-n", ns, "-o", "json"])).items.some(
        (e: Json) => e.reason === "Drifted" && e.regarding?.name === "app-orders-2",
      ),
    );
    expect(events).toBeDefined();
    const services = (await (await fetch(`${kong.adminUrl}/services/legacy`)).json()) as Json;
    expect(services.name).toBe("legacy");
  });

  it("converges with 20% injected 5xx, and shows an outage in status meanwhile", {
    timeout: 240_000,
  }, async () => {
    await kong.faults.refuseConnections();
    apply(kubeconfig, ns, subscription("app-billing-2", "billing", "basic"));
    const outageAt = Date.now();
    const down = await wait("GatewaySynced=False", () => {
      const c = conditionOf(get("apiportal", "portal"), "GatewaySynced");
      return c?.status === "False" && c;
    });
    expect(down.reason).toBe("KongUnreachable");
    console.log(
      `GatewaySynced=False (${down.reason}) ${Date.now() - outageAt} ms after Kong stopped accepting connections`,
    );
    await kong.faults.acceptConnections();
    kong.faults.failRate(0.2);
    for (let i = 3; i <= 6; i++) apply(kubeconfig, ns, subscription(`app-orders-${i}`, "orders", "gold"));
    for (let i = 3; i <= 6; i++) await active(`app-orders-${i}`);
    await active("app-billing-2");
    expect(kong.faults.injected).toBeGreaterThan(0);
    await kong.faults.clear();
    await wait(
      "GatewaySynced=True",
      () => conditionOf(get("apiportal", "portal"), "GatewaySynced")?.status === "True",
    );
  });

  it("rotates a key with an overlap during which the old key still works, and deleting the subscription makes the key fail", {
    timeout: 120_000,
  }, async () => {
    const oldKey = secretValue("app-orders-3-credentials", "apiKey") ?? "";
    const at = new Date().toISOString();
    kubectlOk(kubeconfig, [
      "patch",
      "subscription",
      "app-orders-3",
      "-n",
      ns,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { credentials: { rotation: { requestedAt: at, overlapSeconds: 8 } } } }),
    ]);
    const newKey = await wait("a new key", () => {
      const k = secretValue("app-orders-3-credentials", "apiKey");
      return k !== oldKey && k;
    });
    await wait("the new key works", async () => (await call("/orders/x", { "X-Api-Key": newKey })) === 200);
    expect(await call("/orders/x", { "X-Api-Key": oldKey })).toBe(200);
    await wait(
      "the old key stops working after the overlap",
      async () => (await call("/orders/x", { "X-Api-Key": oldKey })) === 401,
      40_000,
    );
    expect(await call("/orders/x", { "X-Api-Key": newKey })).toBe(200);

    kubectlOk(kubeconfig, ["delete", "subscription", "app-orders-3", "-n", ns, "--wait=false"]);
    await wait(
      "the deleted subscription's key fails",
      async () => (await call("/orders/x", { "X-Api-Key": newKey })) === 401,
    );
  });

  it("holds the deletion of an Api that still has subscriptions, with a clear condition", {
    timeout: 120_000,
  }, async () => {
    kubectlOk(kubeconfig, ["delete", "api", "billing", "-n", ns, "--wait=false"]);
    const held = await wait("DeletionBlocked", () => {
      const c = conditionOf(get("api", "billing"), "Ready");
      return c?.reason === "DeletionBlocked" && c;
    });
    expect(held.message).toContain("subscription(s) use this API");
    for (const s of ["app-billing", "app-billing-2", "app-billing-partner"])
      kubectlOk(kubeconfig, ["delete", "subscription", s, "-n", ns, "--wait=false"]);
    await wait("the Api is gone", () => !get("api", "billing"));
    await wait("its route is gone from Kong", async () => (await call("/billing/x")) === 404);
  });
});
