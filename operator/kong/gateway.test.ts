// Requests through the Kong test double's proxy after a sync: what wicked programs is what Kong enforces.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createManualClock, type ManualClock } from "../../test/kong/clock.ts";
import {
  type EchoServer,
  echoed,
  httpCall,
  signJwt,
  startEchoServer,
} from "../../test/kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../../test/kong/kong-double.ts";
import { KongAdminClient } from "./admin-client.ts";
import { type DesiredSubscription, desiredKongState } from "./desired.ts";
import { type SyncReport, syncKong } from "./sync.ts";
import { testApi, testInput, testPlan, testScopeTags, testSubscription } from "./testing.ts";

let upstream: EchoServer;
let double: KongDouble;
let clock: ManualClock;
let client: KongAdminClient;

beforeAll(async () => {
  upstream = await startEchoServer();
});

afterAll(async () => {
  await upstream.stop();
});

beforeEach(async () => {
  // One second into a minute, so the rate-limit window does not roll over while a test runs.
  clock = createManualClock(Math.floor(Date.now() / 60_000) * 60_000 + 1_000);
  double = await startKongDouble({ now: clock.now });
  client = new KongAdminClient(double.adminUrl);
  return async () => {
    expect(double.unexpectedErrors).toEqual([]);
    await double.stop();
  };
});

function rsaKeys(): { privateKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, publicPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

async function programmed(
  apis: ReturnType<typeof testApi>[],
  subscriptions: DesiredSubscription[],
): Promise<SyncReport> {
  const desired = desiredKongState(
    testInput(apis, subscriptions, `http://${upstream.host}:${upstream.port}/backend`),
  );
  const report = await syncKong(client, desired, { scopeTags: testScopeTags() });
  expect(report.errors).toEqual([]);
  return report;
}

function get(path: string, headers: Record<string, string> = {}) {
  return httpCall(double.proxyUrl, "GET", path, { headers });
}

describe("a key-auth Api after sync", () => {
  const orders = testApi("orders", { auth: { type: "key-auth", keyHeader: "X-Shop-Key" } });
  const catalog = testApi("catalog");
  const limited = testPlan("limited", { rateLimits: { minute: 3 } });
  const alice = testSubscription("alice", orders, limited, { kind: "key-auth", keys: ["alice-key"] });
  const carol = testSubscription("carol", catalog, limited, { kind: "key-auth", keys: ["carol-key"] });

  it("lets a subscriber's key through to the upstream, hiding it, and refuses others", async () => {
    await programmed([orders, catalog], [alice, carol]);

    const ok = await get("/orders/42", { "X-Shop-Key": "alice-key" });
    expect(ok.status).toBe(200);
    expect(echoed(ok).url).toBe("/backend/42");
    expect(echoed(ok).headers["x-shop-key"]).toBeUndefined();
    expect(echoed(ok).headers["x-consumer-custom-id"]).toBe(alice.subscription.metadata.uid);

    expect((await get("/orders/42")).status).toBe(401);
    expect((await get("/orders/42", { "X-Shop-Key": "no-such-key" })).status).toBe(401);
    const otherApi = await get("/orders/42", { "X-Shop-Key": "carol-key" });
    expect(otherApi.status).toBe(403);
    expect(otherApi.json).toMatchObject({ message: "You cannot consume this service" });
    expect((await get("/catalog", { "X-Api-Key": "carol-key" })).status).toBe(200);
  });

  it("enforces the plan's per-minute limit per subscriber", async () => {
    await programmed([orders, catalog], [alice, carol]);
    for (let i = 0; i < 3; i++)
      expect((await get("/orders", { "X-Shop-Key": "alice-key" })).status).toBe(200);
    const limitedAnswer = await get("/orders", { "X-Shop-Key": "alice-key" });
    expect(limitedAnswer.status).toBe(429);
    expect(limitedAnswer.headers["x-ratelimit-limit-minute"]).toBe("3");
    expect((await get("/catalog", { "X-Api-Key": "carol-key" })).status).toBe(200);
    clock.advance(60_000);
    expect((await get("/orders", { "X-Shop-Key": "alice-key" })).status).toBe(200);
  });

  it("stops accepting a key once its subscription is deleted", async () => {
    await programmed([orders, catalog], [alice, carol]);
    expect((await get("/orders", { "X-Shop-Key": "alice-key" })).status).toBe(200);
    await programmed([orders, catalog], [carol]);
    expect((await get("/orders", { "X-Shop-Key": "alice-key" })).status).toBe(401);
  });

  it("keeps the previous key working during a rotation overlap, and only then", async () => {
    const rotate = (keys: string[]) => testSubscription("alice", orders, limited, { kind: "key-auth", keys });
    await programmed([orders], [rotate(["old-key"])]);
    await programmed([orders], [rotate(["new-key", "old-key"])]);
    expect((await get("/orders", { "X-Shop-Key": "old-key" })).status).toBe(200);
    expect((await get("/orders", { "X-Shop-Key": "new-key" })).status).toBe(200);
    await programmed([orders], [rotate(["new-key"])]);
    expect((await get("/orders", { "X-Shop-Key": "old-key" })).status).toBe(401);
    expect((await get("/orders", { "X-Shop-Key": "new-key" })).status).toBe(200);
  });
});

describe("an oauth2 Api after sync", () => {
  const payments = testApi("payments", { auth: { type: "oauth2" } });
  const reports = testApi("reports", { auth: { type: "oauth2" } });
  const plan = testPlan("gold", { rateLimits: { minute: 100 } });
  const portalKey = rsaKeys();
  const jwtSub = (name: string, api: typeof payments, publicPem = portalKey.publicPem) =>
    testSubscription(name, api, plan, {
      kind: "jwt",
      clientId: `${name}-client`,
      publicKeysPem: [publicPem],
    });
  const token = (clientId: string, key: KeyObject = portalKey.privateKey, lifetimeSeconds = 300) =>
    signJwt("RS256", { client_id: clientId, exp: Math.floor(clock.now() / 1000) + lifetimeSeconds }, key);

  it("accepts a token signed with the portal's key for the subscription's client, and nothing else", async () => {
    await programmed([payments, reports], [jwtSub("dave", payments), jwtSub("erin", reports)]);
    const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

    const ok = await get("/payments", bearer(token("dave-client")));
    expect(ok.status).toBe(200);
    expect(echoed(ok).headers["x-consumer-username"]).toBe("wicked.shop.dave");

    expect((await get("/payments")).status).toBe(401);
    expect((await get("/payments", bearer(token("dave-client", rsaKeys().privateKey)))).status).toBe(401);
    const expired = await get("/payments", bearer(token("dave-client", portalKey.privateKey, -10)));
    expect(expired.status).toBe(401);
    expect(expired.json).toEqual({ exp: "token expired" });
    expect((await get("/payments", bearer(token("erin-client")))).status).toBe(403);
    expect((await get("/payments", bearer(token("nobody-client")))).status).toBe(401);
    expect((await get("/reports", bearer(token("erin-client")))).status).toBe(200);
  });

  it("follows a rotation of the portal's signing key", async () => {
    await programmed([payments], [jwtSub("dave", payments)]);
    const next = rsaKeys();
    await programmed([payments], [jwtSub("dave", payments, next.publicPem)]);
    expect(
      (await get("/payments", { Authorization: `Bearer ${token("dave-client", next.privateKey)}` })).status,
    ).toBe(200);
  });
});
