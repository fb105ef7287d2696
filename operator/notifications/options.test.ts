import { describe, expect, it } from "vitest";
import { DEFAULT_TUNING, notificationTuningFromEnv, sendTimeouts } from "./options.ts";

describe("notificationTuningFromEnv", () => {
  it("keeps the defaults without variables", () => {
    expect(notificationTuningFromEnv({})).toEqual(DEFAULT_TUNING);
  });

  it("reads each variable and refuses nonsense", () => {
    const t = notificationTuningFromEnv({
      WICKED_NOTIFICATIONS_POLL_MS: "200",
      WICKED_NOTIFICATIONS_CLAIM_LEASE_MS: "8000",
      WICKED_NOTIFICATIONS_RETRY_BASE_MS: "100",
      WICKED_NOTIFICATIONS_RETRY_CAP_MS: "1000",
    });
    expect(t).toMatchObject({
      pollIntervalMs: 200,
      claimLeaseMs: 8000,
      retry: { baseMs: 100, capMs: 1000, jitter: 0.5 },
    });
    expect(() => notificationTuningFromEnv({ WICKED_NOTIFICATIONS_POLL_MS: "soon" })).toThrow(
      'WICKED_NOTIFICATIONS_POLL_MS must be a positive number of milliseconds, not "soon"',
    );
  });
});

describe("sendTimeouts", () => {
  it("ends a send well within the claim lease", () => {
    const t = sendTimeouts(8000);
    expect(t.connectionTimeoutMs + t.greetingTimeoutMs + t.socketTimeoutMs).toBeLessThan(8000);
    expect(sendTimeouts(600_000).socketTimeoutMs).toBe(20_000);
  });
});
