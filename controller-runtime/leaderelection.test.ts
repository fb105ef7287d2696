import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./errors.ts";
import {
  decideLease,
  LEASE_GVK,
  LeaderElector,
  type LeaderElectorOptions,
  type Lease,
  nextLeaseSpec,
  releasedLeaseSpec,
} from "./leaderelection.ts";
import { FakeClient } from "./testing.ts";

const held = (holder: string, renewTime = "2025-01-01T00:00:00.000000Z") => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  renewTime,
  leaseTransitions: 2,
});

describe("decideLease", () => {
  const base = { identity: "me", nowMs: 1000, observation: undefined, leaseDurationSeconds: 15 };

  it("creates a missing Lease", () => {
    expect(decideLease({ ...base, lease: undefined }).decision).toEqual({ action: "create" });
  });

  it("renews a Lease it holds", () => {
    expect(decideLease({ ...base, lease: held("me") }).decision).toEqual({ action: "renew" });
  });

  it("acquires a released Lease at once", () => {
    expect(decideLease({ ...base, lease: { ...held(""), holderIdentity: "" } }).decision.action).toBe(
      "acquire",
    );
    expect(decideLease({ ...base, lease: { leaseDurationSeconds: 15 } }).decision.action).toBe("acquire");
  });

  it("waits while another holder's Lease has not gone unrenewed for its duration on our clock", () => {
    const first = decideLease({ ...base, lease: held("other") });
    expect(first.decision).toEqual({ action: "wait", holder: "other", expiresInMs: 15_000 });
    const later = decideLease({
      ...base,
      nowMs: 15_999,
      lease: held("other"),
      observation: first.observation,
    });
    expect(later.decision).toEqual({ action: "wait", holder: "other", expiresInMs: 1 });
    const expired = decideLease({
      ...base,
      nowMs: 16_000,
      lease: held("other"),
      observation: later.observation,
    });
    expect(expired.decision.action).toBe("acquire");
  });

  it("starts the expiry over whenever the holder renews", () => {
    const first = decideLease({ ...base, lease: held("other", "t1") });
    const renewed = decideLease({
      ...base,
      nowMs: 14_000,
      lease: held("other", "t2"),
      observation: first.observation,
    });
    expect(renewed.observation?.observedAtMs).toBe(14_000);
    const check = decideLease({
      ...base,
      nowMs: 20_000,
      lease: held("other", "t2"),
      observation: renewed.observation,
    });
    expect(check.decision).toEqual({ action: "wait", holder: "other", expiresInMs: 9000 });
  });

  it("ignores the holder's renewTime (clocks may be skewed) and uses the Lease's own duration", () => {
    const lease = { ...held("other", "1999-01-01T00:00:00.000000Z"), leaseDurationSeconds: 5 };
    expect(decideLease({ ...base, lease }).decision).toEqual({
      action: "wait",
      holder: "other",
      expiresInMs: 5000,
    });
  });
});

describe("nextLeaseSpec and releasedLeaseSpec", () => {
  const now = new Date("2025-06-01T12:00:00.250Z");

  it("creates a Lease with MicroTime timestamps and no transitions", () => {
    expect(nextLeaseSpec(undefined, "me", now, 15)).toEqual({
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      acquireTime: "2025-06-01T12:00:00.250000Z",
      renewTime: "2025-06-01T12:00:00.250000Z",
      leaseTransitions: 0,
    });
  });

  it("renewing keeps acquireTime and transitions", () => {
    const prev = { ...held("me"), acquireTime: "2025-01-01T00:00:00.000000Z" };
    expect(nextLeaseSpec(prev, "me", now, 15)).toMatchObject({
      acquireTime: "2025-01-01T00:00:00.000000Z",
      renewTime: "2025-06-01T12:00:00.250000Z",
      leaseTransitions: 2,
    });
  });

  it("taking over from another holder or a released Lease counts a transition", () => {
    expect(nextLeaseSpec(held("other"), "me", now, 15).leaseTransitions).toBe(3);
    expect(nextLeaseSpec(releasedLeaseSpec(held("me"), now), "you", now, 15).leaseTransitions).toBe(3);
  });

  it("a release empties the holder and shortens the duration", () => {
    expect(releasedLeaseSpec(held("me"), now)).toMatchObject({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      leaseTransitions: 2,
    });
  });
});

describe("LeaderElector", () => {
  const logger = pino({ level: "silent" });
  const key = { namespace: "wicked-system", name: "wicked-operator" };
  let client: FakeClient;

  beforeEach(() => {
    vi.useFakeTimers();
    client = new FakeClient();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function elector(identity: string, overrides: Partial<LeaderElectorOptions> = {}) {
    const events: string[] = [];
    const e = new LeaderElector({
      client,
      logger,
      ...key,
      identity,
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      monotonicNow: () => Date.now(),
      onStartedLeading: () => events.push("started"),
      onStoppedLeading: () => events.push("stopped"),
      random: () => 0,
      ...overrides,
    });
    return { e, events };
  }
  const lease = async () => (await client.get<Lease>(LEASE_GVK, key))?.spec;

  it("creates the Lease, leads, and renews it every retry period", async () => {
    const { e, events } = elector("a");
    e.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(e.isLeader).toBe(true);
    expect(events).toEqual(["started"]);
    const first = (await lease())?.renewTime;
    await vi.advanceTimersByTimeAsync(2100);
    expect((await lease())?.renewTime).not.toBe(first);
    expect(await lease()).toMatchObject({ holderIdentity: "a", leaseTransitions: 0 });
    await e.stop();
  });

  it("lets exactly one of two candidates lead, and hands over at once on a graceful stop", async () => {
    const a = elector("a");
    const b = elector("b");
    a.e.start();
    await vi.advanceTimersByTimeAsync(1);
    b.e.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect([a.e.isLeader, b.e.isLeader]).toEqual([true, false]);
    await a.e.stop();
    expect(a.events).toEqual(["started", "stopped"]);
    expect(await lease()).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    await vi.advanceTimersByTimeAsync(2100);
    expect(b.e.isLeader).toBe(true);
    expect(await lease()).toMatchObject({ holderIdentity: "b", leaseDurationSeconds: 15 });
    await b.e.stop();
  });

  it("takes over a Lease whose holder stopped renewing, only after the lease duration", async () => {
    client.seed<Lease>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: key,
      spec: { ...held("ghost"), leaseTransitions: 4 },
    });
    const { e } = elector("a");
    e.start();
    await vi.advanceTimersByTimeAsync(14_000);
    expect(e.isLeader).toBe(false);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(e.isLeader).toBe(true);
    expect(await lease()).toMatchObject({ holderIdentity: "a", leaseTransitions: 5 });
    await e.stop();
  });

  it("steps down when it cannot renew within the renew deadline, before the Lease expires", async () => {
    const { e, events } = elector("a");
    e.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(e.isLeader).toBe(true);
    const brokeAt = Date.now();
    client.failWith = (verb) =>
      verb === "patchMerge" ? new ApiError("PATCH lease", 503, "ServiceUnavailable") : undefined;
    let lostAt = 0;
    while (e.isLeader && Date.now() - brokeAt < 60_000) {
      await vi.advanceTimersByTimeAsync(100);
      lostAt = Date.now();
    }
    expect(events).toEqual(["started", "stopped"]);
    expect(lostAt - brokeAt).toBeGreaterThanOrEqual(8_000);
    expect(lostAt - brokeAt).toBeLessThanOrEqual(12_100);
    client.failWith = undefined;
    await e.stop();
  });

  it("steps down at once when another holder took the Lease", async () => {
    const { e, events } = elector("a");
    e.start();
    await vi.advanceTimersByTimeAsync(1);
    const current = await client.get<Lease>(LEASE_GVK, key);
    await client.patchMerge(LEASE_GVK, key, {
      metadata: { resourceVersion: current?.metadata.resourceVersion },
      spec: { holderIdentity: "thief" },
    });
    await vi.advanceTimersByTimeAsync(2100);
    expect(e.isLeader).toBe(false);
    expect(events).toEqual(["started", "stopped"]);
    await e.stop();
    expect((await lease())?.holderIdentity).toBe("thief");
  });

  it("refuses a renew deadline that is not below the lease duration", () => {
    expect(() => elector("x", { leaseDurationSeconds: 10, renewDeadlineSeconds: 10 })).toThrow(RangeError);
  });
});
