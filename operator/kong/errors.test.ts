import { describe, expect, it } from "vitest";
import { KongAdminError } from "./admin-client.ts";
import { desiredKongState } from "./desired.ts";
import { explainFailure, type FailedWrite, flattenFieldErrors } from "./errors.ts";
import { RetriesExhaustedError } from "./retry.ts";
import type { KongStateEntity } from "./state.ts";
import { testApi, testInput, testPlan, testSubscription } from "./testing.ts";

const orders = testApi("orders", {
  routes: [{ paths: ["/orders", "/shop/orders"] }],
  plugins: [{ name: "cors", config: { origins: "*" } }],
});
const gold = testPlan("gold", { rateLimits: { minute: 10 }, plugins: [{ name: "ip-restriction" }] });
const state = desiredKongState(
  testInput([orders], [testSubscription("alice", orders, gold, { kind: "key-auth", keys: ["top-secret"] })]),
);

function entity(key: string): KongStateEntity {
  const found = [...state.entities.values()].find((e) => e.key === key || e.key?.startsWith(key));
  if (!found) throw new Error(`no entity ${key}`);
  return found;
}

function failed(key: string, error: unknown, action: FailedWrite["action"] = "create"): FailedWrite {
  return { action, entity: entity(key), error, lookup: (id) => state.entities.get(id) };
}

function kong(status: number, body: unknown): KongAdminError {
  return new KongAdminError(`Kong answered with ${status}`, status, body, "PUT /x");
}

describe("explainFailure", () => {
  it("names the route path, the Api and the spec field when Kong reports a path conflict", () => {
    const error = explainFailure(
      failed(
        "route:shop/orders#0",
        kong(409, {
          code: 5,
          name: "unique constraint violation",
          message: "UNIQUE violation detected on '{paths={\"/orders\"}}'",
          fields: { paths: ["/orders"] },
        }),
      ),
    );
    expect(error).toMatchObject({
      owner: { kind: "Api", namespace: "shop", name: "orders" },
      reason: "KongConflict",
      status: 409,
      message:
        "route path /orders of Api shop/orders is already used by another route in Kong (UNIQUE violation on paths); change spec.routes[0] of Api shop/orders, or remove the other route from Kong",
    });
  });

  it("explains a foreign plugin occupying the same scope", () => {
    const error = explainFailure(
      failed(
        "plugin:cors@service:shop/orders",
        kong(409, {
          code: 5,
          fields: { name: "cors", service: { id: "x" }, route: null, consumer: null },
        }),
      ),
    );
    expect(error.message).toBe(
      'another "cors" plugin, not managed by wicked, is already configured on the same service in Kong (UNIQUE violation on name, service, route, consumer); remove that plugin from Kong, or remove it from spec.plugins[name=cors] of Api shop/orders',
    );
  });

  it("maps schema violations of plugin config to the spec field to fix", () => {
    const body = {
      code: 2,
      name: "schema violation",
      message: "2 schema violations (config.origins: expected an array; config.colour: unknown field)",
      fields: { config: { origins: "expected an array", colour: "unknown field" } },
    };
    expect(explainFailure(failed("plugin:cors@service:shop/orders", kong(400, body))).message).toBe(
      "Kong refused the cors plugin of Api shop/orders: spec.plugins[name=cors].config.origins: expected an array; spec.plugins[name=cors].config.colour: unknown field; fix spec.plugins[name=cors] of Api shop/orders",
    );
    const limits = {
      code: 2,
      fields: { config: "The limit for hour(5.0) cannot be lower than the limit for minute(10.0)" },
    };
    const rateLimit = explainFailure(failed("plugin:rate-limiting@consumer:shop/alice", kong(400, limits)));
    expect(rateLimit.origin).toEqual({
      resource: { kind: "Plan", namespace: "shop", name: "gold" },
      field: "spec.rateLimits",
    });
    expect(rateLimit.message).toContain("fix spec.rateLimits of Plan shop/gold");
  });

  it("maps route field errors by position and keeps entity-level errors", () => {
    const body = {
      code: 2,
      fields: { paths: [null, "invalid path"], "@entity": ["must set one of 'methods', 'hosts'"] },
    };
    expect(explainFailure(failed("route:shop/orders#0", kong(400, body))).message).toBe(
      "Kong refused the route \"wicked.shop.orders.0\" of Api shop/orders (spec.routes[0]): spec.routes[0].paths[1]: invalid path; must set one of 'methods', 'hosts'; fix spec.routes[0] of Api shop/orders",
    );
  });

  it("says how to enable a plugin Kong does not know, and when a plugin cannot be per consumer", () => {
    const notEnabled = {
      code: 2,
      fields: { name: "plugin 'cors' not enabled; add it to the 'plugins' configuration property" },
    };
    expect(explainFailure(failed("plugin:cors@service:shop/orders", kong(400, notEnabled))).message).toBe(
      'plugin "cors" of Api shop/orders is not enabled in Kong; enable it in Kong\'s plugins setting (KONG_PLUGINS) or remove it from spec.plugins[name=cors] of Api shop/orders',
    );
    const perConsumer = { code: 2, fields: { consumer: "value must be null" } };
    expect(
      explainFailure(failed("plugin:ip-restriction@consumer:shop/alice", kong(400, perConsumer))).message,
    ).toBe(
      'plugin "ip-restriction" cannot be applied per consumer in Kong (consumer: value must be null); remove it from spec.plugins[name=ip-restriction] of Plan shop/gold',
    );
  });

  it("names a dependency that is not in Kong, and a foreign entity blocking a delete", () => {
    const service = entity("service:shop/orders");
    const fk = { code: 4, fields: { service: { id: service.id } } };
    expect(explainFailure(failed("plugin:rate-limiting@consumer:shop/alice", kong(400, fk))).message).toBe(
      'the rate-limiting plugin of Subscription shop/alice (limits of Plan shop/gold) needs the service "wicked.shop.orders" of Api shop/orders, which is not in Kong; it is programmed once Api shop/orders is',
    );
    const referenced = { code: 4, fields: { "@referenced_by": "routes" } };
    expect(explainFailure(failed("service:shop/orders", kong(400, referenced), "delete")).message).toContain(
      "cannot be deleted: a route that wicked does not manage still refers to it in Kong",
    );
  });

  it("never quotes a credential", () => {
    const conflict = explainFailure(
      failed("key-auth:shop/alice", kong(409, { code: 5, fields: { key: "<redacted>" } })),
    );
    const invalid = explainFailure(
      failed("key-auth:shop/alice", kong(400, { code: 2, message: "x", fields: { key: "bad" } })),
    );
    const other = explainFailure(failed("key-auth:shop/alice", kong(418, { message: "top-secret" })));
    for (const e of [conflict, invalid, other]) expect(JSON.stringify(e)).not.toContain("top-secret");
    expect(conflict.message).toMatch(
      /^the API key of Subscription shop\/alice is already used by another Kong consumer/,
    );
  });

  it("distinguishes an unreachable Kong, an unavailable one, bad credentials and DB-less mode", () => {
    const unreachable = new RetriesExhaustedError(
      new KongAdminError("Cannot reach Kong's Admin API at http://kong:8001 (ECONNREFUSED)", 0),
      5,
    );
    expect(explainFailure(failed("service:shop/orders", unreachable))).toMatchObject({
      reason: "KongUnreachable",
      status: 0,
      message: expect.stringMatching(
        /^Cannot reach Kong's Admin API at http:\/\/kong:8001 \(ECONNREFUSED\) after 5 attempts while programming/,
      ),
    });
    const unavailable = new RetriesExhaustedError(kong(503, { message: "down" }), 5);
    expect(explainFailure(failed("service:shop/orders", unavailable)).reason).toBe("KongUnavailable");
    expect(explainFailure(failed("service:shop/orders", kong(401, { message: "Unauthorized" }))).reason).toBe(
      "KongUnauthorized",
    );
    expect(explainFailure(failed("service:shop/orders", kong(405, { code: 12 }))).message).toMatch(/DB-less/);
  });
});

describe("flattenFieldErrors", () => {
  it("turns Kong's nested field errors into path: message pairs", () => {
    expect(
      flattenFieldErrors({ config: { redis: { host: "required field missing" } }, hosts: [null, "bad"] }),
    ).toEqual(["config.redis.host: required field missing", "hosts[1]: bad"]);
  });
});
