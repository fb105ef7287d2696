import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { aclGroup, desiredKongState, kongIdsOfApi, SubscriptionEntities } from "./desired.ts";
import type { KongState, KongStateEntity } from "./state.ts";
import { MANAGED_TAG, portalTag } from "./tags.ts";
import { testApi, testInput, testPlan, testPortal, testSubscription } from "./testing.ts";

function byKey(state: KongState, key: string): KongStateEntity {
  const found = [...state.entities.values()].find((e) => e.key === key);
  if (!found)
    throw new Error(`no entity ${key}; have ${[...state.entities.values()].map((e) => e.key).join(", ")}`);
  return found;
}

function keysOf(state: KongState): string[] {
  return [...state.entities.values()].map((e) => e.key ?? "").sort();
}

const publicKeyPem = (): string =>
  generateKeyPairSync("rsa", { modulusLength: 2048 })
    .publicKey.export({ type: "spki", format: "pem" })
    .toString();

describe("desiredKongState for Apis", () => {
  it("maps a key-auth Api to a service, one route per spec.routes entry, key-auth and acl", () => {
    const api = testApi("orders", {
      routes: [
        { paths: ["/orders"], methods: ["GET", "POST"] },
        { hosts: ["orders.example.com"], stripPath: false },
      ],
      auth: { type: "key-auth", keyHeader: "X-Shop-Key" },
    });
    const state = desiredKongState(testInput([api]));
    expect(keysOf(state)).toEqual([
      "plugin:acl@service:shop/orders",
      "plugin:key-auth@service:shop/orders",
      "route:shop/orders#0",
      "route:shop/orders#1",
      "service:shop/orders",
    ]);
    const service = byKey(state, "service:shop/orders");
    expect(service.fields).toMatchObject({
      name: "wicked.shop.orders",
      protocol: "http",
      host: "upstream.invalid",
      port: 8080,
      path: "/v1",
    });
    expect(byKey(state, "route:shop/orders#0").fields).toMatchObject({
      service: { id: service.id },
      protocols: ["http", "https"],
      paths: ["/orders"],
      hosts: null,
      methods: ["GET", "POST"],
      strip_path: true,
    });
    expect(byKey(state, "route:shop/orders#1").fields).toMatchObject({
      paths: null,
      hosts: ["orders.example.com"],
      strip_path: false,
    });
    expect(byKey(state, "plugin:key-auth@service:shop/orders").fields).toMatchObject({
      name: "key-auth",
      service: { id: service.id },
      config: { key_names: ["X-Shop-Key"], hide_credentials: true },
      enabled: true,
    });
    expect(byKey(state, "plugin:acl@service:shop/orders").fields).toMatchObject({
      name: "acl",
      config: { allow: ["wicked.shop.orders"] },
    });
  });

  it("uses X-Api-Key when the Api names no key header", () => {
    const state = desiredKongState(testInput([testApi("orders")]));
    expect(byKey(state, "plugin:key-auth@service:shop/orders").fields.config).toMatchObject({
      key_names: ["X-Api-Key"],
    });
  });

  it("maps an oauth2 Api to the jwt plugin verifying RS256 tokens by client_id and exp", () => {
    const state = desiredKongState(testInput([testApi("payments", { auth: { type: "oauth2" } })]));
    expect(byKey(state, "plugin:jwt@service:shop/payments").fields.config).toEqual({
      key_claim_name: "client_id",
      claims_to_verify: ["exp"],
      header_names: ["authorization"],
      uri_param_names: [],
      cookie_names: [],
    });
    expect(byKey(state, "plugin:acl@service:shop/payments").fields.config).toMatchObject({
      allow: ["wicked.shop.payments"],
    });
    expect(keysOf(state).some((k) => k.includes("key-auth"))).toBe(false);
  });

  it("gives an Api with auth none no auth and no acl plugin, and its subscriptions nothing", () => {
    const api = testApi("status", { auth: { type: "none" }, plans: [] });
    const plan = testPlan();
    const state = desiredKongState(
      testInput([api], [testSubscription("alice", api, plan, { kind: "key-auth", keys: ["k1"] })]),
    );
    expect(keysOf(state)).toEqual(["route:shop/status#0", "service:shop/status"]);
  });

  it("adds the extra plugins of spec.plugins on the service as given", () => {
    const api = testApi("orders", {
      plugins: [
        { name: "cors", config: { origins: ["https://shop.example.com"] } },
        { name: "request-transformer", enabled: false },
      ],
    });
    const state = desiredKongState(testInput([api]));
    expect(byKey(state, "plugin:cors@service:shop/orders").fields).toMatchObject({
      name: "cors",
      config: { origins: ["https://shop.example.com"] },
      enabled: true,
    });
    expect(byKey(state, "plugin:request-transformer@service:shop/orders").fields).toMatchObject({
      config: {},
      enabled: false,
    });
  });

  it("takes the service URL from resolveUpstream (a resolved serviceRef)", () => {
    const api = testApi("orders", { upstream: { serviceRef: { name: "orders", port: 8080 } } });
    const state = desiredKongState(testInput([api], [], "https://orders.shop.svc/api"));
    expect(byKey(state, "service:shop/orders").fields).toMatchObject({
      protocol: "https",
      host: "orders.shop.svc",
      port: 443,
      path: "/api",
    });
  });

  it("tags every entity with wicked's tag, the portal and the owner, and derives ids from natural keys", () => {
    const api = testApi("orders");
    const portal = testPortal();
    const state = desiredKongState(
      testInput([api], [testSubscription("alice", api, testPlan(), { kind: "key-auth", keys: ["k1"] })]),
    );
    for (const entity of state.entities.values()) {
      const tags = entity.fields.tags as string[];
      expect(tags).toContain(MANAGED_TAG);
      expect(tags).toContain(portalTag("shop", "portal"));
      expect(tags.some((t) => t.startsWith("wicked-owner:"))).toBe(true);
      for (const tag of tags) expect(tag).toMatch(/^[\x21-\x2b\x2d-\x2e\x30-\x7e]+$/);
    }
    const again = desiredKongState(
      testInput([api], [testSubscription("alice", api, testPlan(), { kind: "key-auth", keys: ["k1"] })]),
    );
    expect([...again.entities.keys()]).toEqual([...state.entities.keys()]);
    expect(kongIdsOfApi(portal, api)).toEqual({
      serviceId: byKey(state, "service:shop/orders").id,
      routeIds: [byKey(state, "route:shop/orders#0").id],
    });
    expect(byKey(state, "service:shop/orders").fields.tags).toContain("wicked-owner:Api.shop.orders");
    expect(byKey(state, "consumer:shop/alice").fields.tags).toContain("wicked-owner:Subscription.shop.alice");
  });
});

describe("desiredKongState for subscriptions", () => {
  it("maps a key-auth subscription to a consumer in the Api's group with its keys and the plan's limits", () => {
    const api = testApi("orders");
    const plan = testPlan("gold", {
      rateLimits: { second: 5, minute: 100, day: 10000 },
      plugins: [{ name: "request-size-limiting", config: { allowed_payload_size: 1 } }],
    });
    const sub = testSubscription("alice", api, plan, { kind: "key-auth", keys: ["new-key", "old-key"] });
    const state = desiredKongState(testInput([api], [sub]));
    const service = byKey(state, "service:shop/orders");
    const consumer = byKey(state, "consumer:shop/alice");
    expect(consumer.fields).toMatchObject({
      username: "wicked.shop.alice",
      custom_id: sub.subscription.metadata.uid,
    });
    expect(byKey(state, "acl:shop/alice").fields).toMatchObject({
      consumer: { id: consumer.id },
      group: aclGroup(api),
    });
    const credentials = [...state.entities.values()].filter((e) => e.collection === "key-auths");
    expect(credentials.map((c) => c.fields.key).sort()).toEqual(["new-key", "old-key"]);
    for (const credential of credentials) {
      expect(credential.sensitive).toBe(true);
      expect(credential.fields.consumer).toEqual({ id: consumer.id });
      expect(credential.label).not.toMatch(/new-key|old-key/);
      expect(credential.key).not.toMatch(/new-key|old-key/);
    }
    expect(byKey(state, "plugin:rate-limiting@consumer:shop/alice").fields).toMatchObject({
      name: "rate-limiting",
      service: { id: service.id },
      consumer: { id: consumer.id },
      config: {
        second: 5,
        minute: 100,
        hour: null,
        day: 10000,
        month: null,
        limit_by: "consumer",
        policy: "local",
      },
    });
    expect(byKey(state, "plugin:request-size-limiting@consumer:shop/alice").fields).toMatchObject({
      consumer: { id: consumer.id },
      service: null,
      config: { allowed_payload_size: 1 },
    });
  });

  it("gives a new subscription exactly four entities: consumer, acl, credential, rate limits", () => {
    const api = testApi("orders");
    const before = desiredKongState(testInput([api]));
    const after = desiredKongState(
      testInput([api], [testSubscription("alice", api, testPlan(), { kind: "key-auth", keys: ["k"] })]),
    );
    expect(after.entities.size - before.entities.size).toBe(4);
  });

  it("maps a jwt subscription to a jwt credential keyed by the client id with the current public key", () => {
    const api = testApi("payments", { auth: { type: "oauth2" } });
    const [current, previous] = [publicKeyPem(), publicKeyPem()];
    const sub = testSubscription("bob", api, testPlan("free", { rateLimits: undefined }), {
      kind: "jwt",
      clientId: "client-bob",
      publicKeysPem: [current, previous],
    });
    const state = desiredKongState(testInput([api], [sub]));
    const jwts = [...state.entities.values()].filter((e) => e.collection === "jwts");
    expect(jwts).toHaveLength(1);
    expect(jwts[0]?.sensitive).toBe(true);
    expect(jwts[0]?.fields).toMatchObject({
      key: "client-bob",
      algorithm: "RS256",
      rsa_public_key: current,
      consumer: { id: byKey(state, "consumer:shop/bob").id },
    });
    expect(keysOf(state).some((k) => k.includes("rate-limiting"))).toBe(false);
  });

  it("keeps the id of a credential while its key stays, so a rotation adds one and later removes one", () => {
    const api = testApi("orders");
    const plan = testPlan();
    const ids = (keys: string[]) =>
      [
        ...desiredKongState(
          testInput([api], [testSubscription("alice", api, plan, { kind: "key-auth", keys })]),
        ).entities.values(),
      ]
        .filter((e) => e.collection === "key-auths")
        .map((e) => e.id);
    const [old] = ids(["old"]);
    const overlap = ids(["new", "old"]);
    const [fresh] = ids(["new"]);
    expect(overlap).toContain(old);
    expect(overlap).toContain(fresh);
    expect(fresh).not.toBe(old);
  });
});

describe("SubscriptionEntities", () => {
  const api = testApi("orders");
  const plan = testPlan();
  const alice = testSubscription("alice", api, plan, { kind: "key-auth", keys: ["a"] });
  const bob = testSubscription("bob", api, plan, { kind: "key-auth", keys: ["b"] });
  const entitiesOf = (state: KongState, owner: string) =>
    [...state.entities.values()].filter((e) => e.owner?.name === owner);

  it("gives what desiredKongState computes, and the same objects again while the inputs are unchanged", () => {
    const memo = new SubscriptionEntities();
    const first = desiredKongState(testInput([api], [alice, bob]), memo);
    expect(first).toEqual(desiredKongState(testInput([api], [alice, bob])));
    const second = desiredKongState(testInput([api], [alice, bob]), memo);
    expect(entitiesOf(second, "alice")).toHaveLength(4);
    const before = entitiesOf(first, "alice");
    for (const [i, entity] of entitiesOf(second, "alice").entries()) expect(entity).toBe(before[i]);
  });

  it("computes a subscription again when its credential, its spec or its plan's spec changed", () => {
    const memo = new SubscriptionEntities();
    const first = desiredKongState(testInput([api], [alice, bob]), memo);
    const rotated = { ...alice, credential: { kind: "key-auth" as const, keys: ["a2", "a"] } };
    const stricter = testPlan("gold", { rateLimits: { minute: 10 } });
    stricter.metadata.generation = 2;
    const changed = desiredKongState(testInput([api], [rotated, { ...bob, plan: stricter }]), memo);
    expect(entitiesOf(changed, "alice").filter((e) => e.collection === "key-auths")).toHaveLength(2);
    const limits = entitiesOf(changed, "bob").find((e) => e.collection === "plugins");
    expect(limits?.fields.config).toMatchObject({ minute: 10 });
    expect(entitiesOf(changed, "bob")[0]).not.toBe(entitiesOf(first, "bob")[0]);
  });

  it("forgets a subscription that is no longer desired", () => {
    const memo = new SubscriptionEntities();
    desiredKongState(testInput([api], [alice, bob]), memo);
    expect(entitiesOf(desiredKongState(testInput([api], [bob]), memo), "alice")).toEqual([]);
  });
});
