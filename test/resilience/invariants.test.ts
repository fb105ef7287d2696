import { describe, expect, it } from "vitest";
import {
  type KongEntity,
  type RolloutSnapshot,
  rolloutCounts,
  rolloutProblems,
  summarize,
} from "./invariants.ts";

/** A converged snapshot of `n` subscriptions: one consumer, key, ACL entry and rate limit each. */
function converged(n: number): RolloutSnapshot {
  const subscriptions = Array.from({ length: n }, (_, i) => ({
    name: `sub-${i}`,
    uid: `uid-${i}`,
    phase: "Active",
    credentialsSecret: `sub-${i}-credentials`,
  }));
  const consumer = (i: number): KongEntity => ({
    id: `c-${i}`,
    custom_id: `uid-${i}`,
    username: `wicked.ns.sub-${i}`,
  });
  return {
    subscriptions,
    secrets: new Map(subscriptions.map((s, i) => [s.credentialsSecret, { apiKey: `key-${i}` }])),
    rows: subscriptions.map((s) => ({
      uid: s.uid,
      name: s.name,
      phase: "Active",
      credentials_secret: s.credentialsSecret,
    })),
    kong: {
      consumers: subscriptions.map((_, i) => consumer(i)),
      keyAuths: subscriptions.map((_, i) => ({ id: `k-${i}`, key: `key-${i}`, consumer: { id: `c-${i}` } })),
      acls: subscriptions.map((_, i) => ({ id: `a-${i}`, group: "g", consumer: { id: `c-${i}` } })),
      plugins: [
        { id: "svc-key-auth", name: "key-auth", consumer: null },
        ...subscriptions.map((_, i) => ({ id: `p-${i}`, name: "rate-limiting", consumer: { id: `c-${i}` } })),
      ],
    },
  };
}

describe("rolloutProblems", () => {
  it("finds nothing wrong with a clean rollout, and counts it", () => {
    const snapshot = converged(3);
    expect(rolloutProblems(snapshot)).toEqual([]);
    expect(rolloutCounts(snapshot)).toEqual({
      subscriptions: 3,
      active: 3,
      secrets: 3,
      rows: 3,
      consumers: 3,
      keyAuths: 3,
      acls: 3,
      rateLimitingPlugins: 3,
    });
  });

  it("reports a duplicate consumer, a second key, a second ACL entry and a second rate limit of one subscription", () => {
    const snapshot = converged(2);
    snapshot.kong.consumers.push({ id: "c-dup", custom_id: "uid-0" });
    snapshot.kong.keyAuths.push({ id: "k-dup", key: "other", consumer: { id: "c-1" } });
    snapshot.kong.acls.push({ id: "a-dup", group: "g", consumer: { id: "c-1" } });
    snapshot.kong.plugins.push({ id: "p-dup", name: "rate-limiting", consumer: { id: "c-1" } });
    expect(rolloutProblems(snapshot)).toEqual([
      "Subscription sub-0 has 2 Kong consumers with its UID as custom_id, not 1",
      "Subscription sub-1 has 2 key-auth credentials, not 1",
      "Subscription sub-1 has 2 ACL entries, not 1",
      "Subscription sub-1 has 2 rate-limiting plugins, not 1",
    ]);
  });

  it("reports lost writes: a missing Secret, a missing read-model row, a key Kong does not have", () => {
    const snapshot = converged(3);
    snapshot.secrets.delete("sub-0-credentials");
    snapshot.rows = snapshot.rows.filter((r) => r.uid !== "uid-1");
    snapshot.secrets.set("sub-2-credentials", { apiKey: "rotated" });
    expect(rolloutProblems(snapshot)).toEqual([
      "Subscription sub-0: its credentials Secret sub-0-credentials does not exist",
      "Subscription sub-1 has no read-model row",
      "Subscription sub-2: its key-auth credential is not the key in its Secret",
    ]);
  });

  it("reports subscriptions not yet Active, stale rows, orphan consumers, shared keys and duplicate rows", () => {
    const snapshot = converged(2);
    (snapshot.subscriptions[0] as { phase?: string }).phase = "Provisioning";
    (snapshot.rows[1] as { phase: string }).phase = "Pending";
    snapshot.kong.consumers.push({ id: "c-orphan", custom_id: "uid-gone" });
    snapshot.kong.keyAuths.push({ id: "k-shared", key: "key-0", consumer: { id: "c-orphan" } });
    snapshot.rows.push({ ...(snapshot.rows[0] as RolloutSnapshot["rows"][number]) });
    const problems = rolloutProblems(snapshot);
    expect(problems).toContain("Subscription sub-0 is Provisioning, not Active");
    expect(problems).toContain("Subscription sub-1: its read-model row says Pending");
    expect(problems).toContain('1 Kong consumer(s) with custom_id "uid-gone" belong to no Subscription');
    expect(problems).toContain("2 key-auth credentials share the key key-0…");
    expect(problems).toContain("2 read-model rows have the UID uid-0");
  });
});

describe("summarize", () => {
  it("shows the first problems and counts the rest", () => {
    expect(summarize([])).toBe("no problems");
    expect(summarize(["a", "b", "c"], 2)).toBe("3 problem(s):\n  a\n  b\n  … and 1 more");
  });
});
