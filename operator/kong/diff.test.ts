import { describe, expect, it } from "vitest";
import { desiredKongState } from "./desired.ts";
import { diffKongState, type KongPlan, planWrites } from "./diff.ts";
import { actualEntity, type JsonObject, type KongState, type KongStateEntity, kongState } from "./state.ts";
import { testApi, testInput, testPlan, testSubscription } from "./testing.ts";

/** What Kong answers for an entity wicked wrote: defaults and timestamps added, sets in another order. */
function asKongReturns(entity: KongStateEntity): KongStateEntity {
  const fields: JsonObject = { ...entity.fields, id: entity.id, created_at: 1_700_000_000 };
  for (const [name, value] of Object.entries(fields)) {
    if (Array.isArray(value) && ["tags", "methods", "protocols"].includes(name))
      fields[name] = [...value].reverse();
  }
  if (entity.collection === "services")
    Object.assign(fields, { retries: 5, connect_timeout: 60000, enabled: true });
  if (entity.collection === "routes") Object.assign(fields, { preserve_host: false, regex_priority: 0 });
  if (entity.collection === "plugins") {
    fields.protocols = ["grpc", "grpcs", "http", "https"];
    fields.config = { ...(fields.config as JsonObject), run_on_preflight: true, extra_default: null };
  }
  return actualEntity(entity.collection, fields as unknown as Parameters<typeof actualEntity>[1]);
}

/** The entity with other fields. */
function withFields(e: KongStateEntity, fields: JsonObject): KongStateEntity {
  return { collection: e.collection, id: e.id, label: e.label, sensitive: e.sensitive, fields };
}

function kongHolding(
  state: KongState,
  change: (e: KongStateEntity) => KongStateEntity | undefined = (e) => e,
) {
  return kongState(
    [...state.entities.values()].flatMap((e) => {
      const kept = change(e);
      return kept ? [asKongReturns(kept)] : [];
    }),
  );
}

function summary(plan: KongPlan): string[] {
  return plan.steps.map((s) =>
    s.action === "delete"
      ? `delete ${s.actual.collection}${s.cascadedBy ? " (cascade)" : ""}`
      : `${s.action} ${s.desired.collection}`,
  );
}

const api = testApi("orders", { routes: [{ paths: ["/orders"], methods: ["GET", "POST"] }] });
const plan = testPlan("gold", { rateLimits: { minute: 10 } });
const world = desiredKongState(
  testInput([api], [testSubscription("alice", api, plan, { kind: "key-auth", keys: ["alice-key"] })]),
);

describe("diffKongState", () => {
  it("gives an empty plan when Kong holds every desired field, whatever defaults and set order it adds", () => {
    const plan = diffKongState(world, kongHolding(world));
    expect(plan.steps).toEqual([]);
    expect(plan.inSync).toHaveLength(world.entities.size);
    expect(planWrites(plan)).toBe(0);
  });

  it("creates what Kong lacks, dependencies first and routes last, so no API is reachable before its auth", () => {
    const plan = diffKongState(world, kongState([]));
    expect(summary(plan)).toEqual([
      "create services",
      "create consumers",
      "create acls",
      "create key-auths",
      "create plugins",
      "create plugins",
      "create plugins",
      "create routes",
    ]);
  });

  it("updates an entity whose wicked-set field differs, naming the fields but not their values", () => {
    const actual = kongHolding(world, (e) =>
      e.collection === "routes" ? withFields(e, { ...e.fields, paths: ["/elsewhere"] }) : e,
    );
    const plan = diffKongState(world, actual);
    expect(plan.steps).toHaveLength(1);
    const [step] = plan.steps;
    expect(step?.action).toBe("update");
    expect(step?.action === "update" ? step.changedFields : []).toEqual(["paths"]);
  });

  it("updates a plugin whose config value differs, but ignores config defaults Kong adds", () => {
    const actual = kongHolding(world, (e) =>
      e.fields.name === "rate-limiting"
        ? withFields(e, { ...e.fields, config: { ...(e.fields.config as JsonObject), minute: 99 } })
        : e,
    );
    expect(summary(diffKongState(world, actual))).toEqual(["update plugins"]);
  });

  it("deletes what wicked no longer wants, routes and dependents first, leaving cascades to Kong", () => {
    const actual = kongHolding(world);
    const plan = diffKongState(kongState([]), actual);
    expect(summary(plan)).toEqual([
      "delete routes",
      "delete plugins (cascade)",
      "delete plugins (cascade)",
      "delete plugins (cascade)",
      "delete key-auths (cascade)",
      "delete acls (cascade)",
      "delete consumers",
      "delete services",
    ]);
    expect(planWrites(plan)).toBe(3);
  });

  it("deletes a removed subscription with one write: its consumer", () => {
    const withoutAlice = desiredKongState(testInput([api]));
    const plan = diffKongState(withoutAlice, kongHolding(world));
    expect(planWrites(plan)).toBe(1);
    expect(
      plan.steps
        .filter((s) => s.action === "delete" && !s.cascadedBy)
        .map((s) => s.action === "delete" && s.actual.collection),
    ).toEqual(["consumers"]);
  });

  it("deletes before it creates, so a removed entity frees names for a new one", () => {
    const rotated = desiredKongState(
      testInput([api], [testSubscription("alice", api, plan, { kind: "key-auth", keys: ["new-key"] })]),
    );
    expect(summary(diffKongState(rotated, kongHolding(world)))).toEqual([
      "delete key-auths",
      "create key-auths",
    ]);
  });
});
