// The sync engine against the Kong test double (test/kong), in process.
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { httpCall, listData } from "../../test/kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../../test/kong/kong-double.ts";
import { KongAdminClient, KongAdminError, type KongRequestOptions } from "./admin-client.ts";
import { type DesiredSubscription, desiredKongState } from "./desired.ts";
import { KongLedger } from "./ledger.ts";
import type { RetryOptions } from "./retry.ts";
import type { KongState } from "./state.ts";
import { type SyncOptions, syncKong } from "./sync.ts";
import { MANAGED_TAG, portalTag } from "./tags.ts";
import { testApi, testInput, testPlan, testScopeTags, testSubscription } from "./testing.ts";

/** Fast retries, so tests that inject faults do not wait for the production backoff. */
const FAST_RETRY: RetryOptions = { maxAttempts: 3, backoff: { baseMs: 1, capMs: 5, jitter: 0.5 } };

let double: KongDouble;
let client: KongAdminClient;

beforeEach(async () => {
  double = await startKongDouble({ seed: 7 });
  client = new KongAdminClient(double.adminUrl, { timeoutMs: 5_000 });
});

afterEach(async () => {
  await double.faults.clear();
  expect(double.unexpectedErrors).toEqual([]);
  await double.stop();
});

const orders = testApi("orders", {
  routes: [{ paths: ["/orders"] }, { paths: ["/orders-v2"], methods: ["GET"] }],
});
const payments = testApi("payments", { auth: { type: "oauth2" } });
const gold = testPlan("gold", { rateLimits: { minute: 100, day: 1000 } });

function keySub(name: string, key = `${name}-secret-key`): DesiredSubscription {
  return testSubscription(name, orders, gold, { kind: "key-auth", keys: [key] });
}

function world(subscriptions: DesiredSubscription[] = [keySub("alice"), keySub("bob")]): KongState {
  return desiredKongState(testInput([orders, payments], subscriptions));
}

function sync(desired: KongState, extra: Partial<SyncOptions> = {}) {
  return syncKong(client, desired, { scopeTags: testScopeTags(), retry: FAST_RETRY, ...extra });
}

async function admin(method: string, path: string, body?: Record<string, unknown>) {
  return httpCall(double.adminUrl, method, path, body ? { body: body as never } : {});
}

describe("syncKong", () => {
  it("converges, and a resync of an unchanged world makes zero writes", async () => {
    const first = await sync(world());
    expect(first.errors).toEqual([]);
    expect(first.created).toMatchObject({ services: 2, routes: 3, consumers: 2, acls: 2, "key-auths": 2 });
    expect(first.writes).toBe(double.writes);

    double.resetCounters();
    const second = await sync(world());
    expect(second.writes).toBe(0);
    expect(double.writes).toBe(0);
    expect(double.adminRequests.every((r) => r.method === "GET")).toBe(true);
    expect(second.inSync).toBe(world().entities.size);
  });

  it("programs a new subscription with at most 4 writes", async () => {
    await sync(world());
    double.resetCounters();
    const report = await sync(world([keySub("alice"), keySub("bob"), keySub("carol")]));
    expect(report.errors).toEqual([]);
    expect(double.writes).toBeLessThanOrEqual(4);
    expect(report.created).toMatchObject({ consumers: 1, acls: 1, "key-auths": 1, plugins: 1 });
  });

  it("reports each subscription once its own entities are in Kong, not at the end of the sync", async () => {
    const writesAtReport = new Map<string, number>();
    const onSubscriptionSynced = (owner: { name: string }) => writesAtReport.set(owner.name, double.writes);
    const first = await sync(world([keySub("alice"), keySub("bob"), keySub("carol")]), {
      concurrency: 1,
      onSubscriptionSynced,
    });
    expect([...writesAtReport.keys()].sort()).toEqual(["alice", "bob", "carol"]);
    expect(Math.min(...writesAtReport.values())).toBeLessThan(first.writes - 4);

    writesAtReport.clear();
    double.resetCounters();
    await sync(world([keySub("alice"), keySub("bob"), keySub("carol"), keySub("dave")]), {
      onSubscriptionSynced,
    });
    expect(Object.fromEntries(writesAtReport)).toEqual({ alice: 0, bob: 0, carol: 0, dave: 4 });
  });

  it("removes a deleted subscription's consumer and credentials, with one write", async () => {
    await sync(world());
    double.resetCounters();
    const report = await sync(world([keySub("alice")]));
    expect(double.writes).toBe(1);
    expect(report.deleted).toMatchObject({ consumers: 1, acls: 1, "key-auths": 1, plugins: 1 });
    const consumers = listData(await admin("GET", "/consumers"));
    expect(consumers.map((c) => c.username)).toEqual(["wicked.shop.alice"]);
    expect(listData(await admin("GET", "/key-auths"))).toHaveLength(1);
  });

  it("never reads, changes or deletes entities without the portal's tags", async () => {
    await admin("POST", "/services", { name: "foreign", url: "http://foreign.invalid" });
    await admin("POST", "/consumers", { username: "foreign-user" });
    await admin("POST", "/services", {
      name: "other-portal",
      url: "http://other.invalid",
      tags: [MANAGED_TAG, portalTag("other", "portal")],
    });
    await sync(world());
    await sync(desiredKongState(testInput([], [])));
    for (const path of ["/services/foreign", "/consumers/foreign-user", "/services/other-portal"]) {
      expect((await admin("GET", path)).status).toBe(200);
    }
    expect(listData(await admin("GET", "/services")).map((s) => s.name)).toEqual(
      expect.arrayContaining(["foreign", "other-portal"]),
    );
    expect(listData(await admin("GET", "/services"))).toHaveLength(2);
  });

  it("recreates a consumer deleted by hand and reports it as drift", async () => {
    const ledger = new KongLedger();
    await sync(world(), { ledger });
    expect((await admin("DELETE", "/consumers/wicked.shop.alice")).status).toBe(204);
    double.resetCounters();

    const report = await sync(world(), { ledger });
    expect(report.errors).toEqual([]);
    expect(double.writes).toBe(4);
    expect(report.drift).toContainEqual({
      owner: { kind: "Subscription", namespace: "shop", name: "alice" },
      collection: "consumers",
      entity: 'consumer "wicked.shop.alice" of Subscription shop/alice',
      kind: "missing",
      fields: [],
      corrected: true,
    });
    expect(report.drift.map((d) => d.collection).sort()).toEqual([
      "acls",
      "consumers",
      "key-auths",
      "plugins",
    ]);
    expect(JSON.stringify(report)).not.toContain("alice-secret-key");
    expect((await admin("GET", "/consumers/wicked.shop.alice")).status).toBe(200);
  });

  it("reports a field changed by hand as drift, but a spec change as an update", async () => {
    const ledger = new KongLedger();
    await sync(world(), { ledger });
    const route = listData(await admin("GET", "/routes")).find((r) => r.name === "wicked.shop.orders.0");
    await admin("PATCH", `/routes/${String(route?.id)}`, { paths: ["/hijacked"] });

    const corrected = await sync(world(), { ledger });
    expect(corrected.drift).toEqual([
      expect.objectContaining({ collection: "routes", kind: "modified", fields: ["paths"], corrected: true }),
    ]);
    expect(
      listData(await admin("GET", "/routes")).find((r) => r.name === "wicked.shop.orders.0")?.paths,
    ).toEqual(["/orders"]);

    const changedApi = testApi("orders", {
      routes: [{ paths: ["/orders-v3"] }, { paths: ["/orders-v2"], methods: ["GET"] }],
    });
    const changed = desiredKongState(testInput([changedApi, payments], [keySub("alice"), keySub("bob")]));
    const update = await sync(changed, { ledger });
    expect(update.updated.routes).toBe(1);
    expect(update.drift).toEqual([]);
  });

  it("does not mistake the re-creation of a resource for drift", async () => {
    const ledger = new KongLedger();
    await sync(world(), { ledger });
    await admin("DELETE", "/consumers/wicked.shop.alice");
    const removed = await sync(world([keySub("bob")]), { ledger });
    expect(removed.drift).toEqual([]);
    const recreated = await sync(world(), { ledger });
    expect(recreated.drift).toEqual([]);
    expect(recreated.created.consumers).toBe(1);
  });

  it("reports no drift on a first sync (a first creation is not drift)", async () => {
    const report = await sync(world(), { ledger: new KongLedger() });
    expect(report.drift).toEqual([]);
    expect(report.created.consumers).toBe(2);
  });

  it("converges under 20% injected 5xx, reporting the failures meanwhile", async () => {
    const subscriptions = Array.from({ length: 10 }, (_, i) => keySub(`user${i}`));
    const desired = world(subscriptions);
    double.faults.failRate(0.2);
    const retry: RetryOptions = { maxAttempts: 2, backoff: { baseMs: 1, capMs: 2, jitter: 0.5 } };
    const failures: string[] = [];
    let converged = false;
    for (let round = 0; round < 40 && !converged; round++) {
      try {
        const report = await sync(desired, { retry });
        failures.push(...report.errors.map((e) => `${e.reason}: ${e.message}`));
        converged = report.errors.length === 0 && report.writes === 0;
      } catch (err) {
        expect(err).toBeInstanceOf(KongAdminError);
        failures.push(String(err));
      }
    }
    expect(converged).toBe(true);
    expect(double.faults.injected).toBeGreaterThan(0);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.some((f) => /KongUnavailable: Kong answered 500 after 2 attempts/.test(f))).toBe(true);

    await double.faults.clear();
    double.resetCounters();
    const check = await sync(desired);
    expect(check.errors).toEqual([]);
    expect(double.writes).toBe(0);
  });

  it("turns Kong's 409 for a route name taken by a foreign route into a message naming the Api and the fix", async () => {
    await admin("POST", "/services", { name: "foreign", url: "http://foreign.invalid" });
    const foreign = await admin("POST", "/routes", {
      name: "wicked.shop.orders.0",
      paths: ["/orders"],
      service: { name: "foreign" },
    });
    expect(foreign.status).toBe(201);

    const report = await sync(world());
    expect(report.retries).toBe(0);
    expect(report.errors).toEqual([
      {
        owner: { kind: "Api", namespace: "shop", name: "orders" },
        origin: { resource: { kind: "Api", namespace: "shop", name: "orders" }, field: "spec.routes[0]" },
        collection: "routes",
        action: "create",
        entity: 'route "wicked.shop.orders.0" of Api shop/orders (spec.routes[0])',
        reason: "KongConflict",
        status: 409,
        message:
          'route name "wicked.shop.orders.0" of Api shop/orders is already used by another route in Kong (UNIQUE violation on name); delete or rename the other route in Kong, which wicked does not manage',
      },
    ]);
    expect(report.created.consumers).toBe(2);
    expect((await admin("GET", `/routes/${String((foreign.json as { id: string }).id)}`)).status).toBe(200);
  });

  it("never puts a credential into errors or logs when Kong refuses it", async () => {
    const lines: string[] = [];
    const log = pino(
      { level: "debug" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const report = await sync(world([keySub("alice", "shared-secret"), keySub("bob", "shared-secret")]), {
      log,
    });
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ collection: "key-auths", reason: "KongConflict", status: 409 });
    expect(report.errors[0]?.message).toMatch(
      /^the API key of Subscription shop\/(alice|bob) is already used by another Kong consumer \(UNIQUE violation on key\); rotate/,
    );
    expect(lines.some((l) => l.includes("Created Kong consumer"))).toBe(true);
    expect(`${JSON.stringify(report)}${lines.join("")}`).not.toContain("shared-secret");
  });

  it("skips what depends on an entity Kong refused, and says what it waits for", async () => {
    await admin("POST", "/services", { name: "wicked.shop.orders", url: "http://foreign.invalid" });
    const synced: string[] = [];
    const report = await sync(world([keySub("alice")]), { onSubscriptionSynced: (o) => synced.push(o.name) });
    expect(synced).toEqual([]);
    const reasons = report.errors.map((e) => `${e.collection} ${e.reason}`);
    expect(reasons).toEqual([
      "services KongConflict",
      "plugins DependencyNotProgrammed",
      "plugins DependencyNotProgrammed",
      "routes DependencyNotProgrammed",
      "routes DependencyNotProgrammed",
      "plugins DependencyNotProgrammed",
    ]);
    expect(report.errors.find((e) => e.owner?.kind === "Subscription")?.message).toBe(
      'the rate-limiting plugin of Subscription shop/alice (limits of Plan shop/gold) waits for the service "wicked.shop.orders" of Api shop/orders, which could not be programmed',
    );
    expect(report.created).toMatchObject({ services: 1, consumers: 1, acls: 1, "key-auths": 1 });
  });

  it("retries refused connections and succeeds once Kong accepts them again", async () => {
    await double.faults.refuseConnections();
    let retried = 0;
    const report = await sync(world(), {
      retry: {
        ...FAST_RETRY,
        maxAttempts: 5,
        onRetry: (info) => {
          expect(info.error.status).toBe(0);
          retried++;
          if (retried === 2) void double.faults.acceptConnections();
        },
      },
    });
    expect(report.retries).toBeGreaterThanOrEqual(2);
    expect(report.errors).toEqual([]);
    expect(report.created.services).toBe(2);
  });

  it("gives up reading a Kong that refuses connections after the bounded attempts", async () => {
    await double.faults.refuseConnections();
    await expect(sync(world())).rejects.toMatchObject({
      status: 0,
      message: expect.stringMatching(
        /^Cannot reach Kong's Admin API at .* \(ECONNREFUSED\) \(after 3 attempts\)$/,
      ),
    });
  });

  it("reports every owner as unreachable when Kong stops answering in the middle of a sync", async () => {
    class RefusingClient extends KongAdminClient {
      override async put(collection: string, id: string, body: unknown, opts?: KongRequestOptions) {
        await double.faults.refuseConnections();
        return super.put(collection, id, body, opts);
      }
    }
    client = new RefusingClient(double.adminUrl);
    const report = await sync(world());
    expect(report.writes).toBe(0);
    expect(new Set(report.errors.map((e) => e.reason))).toEqual(new Set(["KongUnreachable"]));
    expect(report.errors.map((e) => `${e.owner?.kind} ${e.owner?.name}`).sort()).toEqual([
      "Api orders",
      "Api payments",
      "Subscription alice",
      "Subscription bob",
    ]);
    expect(report.errors[0]?.message).toMatch(
      /^Cannot reach Kong's Admin API at .* \(ECONNREFUSED\) after 3 attempts while programming the service "wicked\.shop\.orders" of Api shop\/orders; wicked retries on the next sync/,
    );
  });

  it("stops when its signal aborts, also while waiting to retry", async () => {
    const controller = new AbortController();
    double.faults.failNext(100, 503);
    const reason = new Error("operator shutting down");
    await expect(
      sync(world(), {
        signal: controller.signal,
        retry: { ...FAST_RETRY, maxAttempts: 100, onRetry: () => controller.abort(reason) },
      }),
    ).rejects.toBe(reason);
    expect(double.faults.injected).toBe(1);
  });

  it("refuses a desired state whose entities lack the scope tags (they would never be found again)", async () => {
    await expect(
      syncKong(client, world(), { scopeTags: [MANAGED_TAG, portalTag("elsewhere", "portal")] }),
    ).rejects.toThrow(RangeError);
    expect(double.writes).toBe(0);
  });
});
