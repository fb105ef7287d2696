import { describe, expect, it } from "vitest";
import type { OutboxEvent } from "../../db/outbox.ts";
import { effectsOfOutboxEvent, keepsToken, type PlanningConfig } from "./effects.ts";

const user = { userId: "u1", email: "ada@example.com", displayName: "Ada" };
const config: PlanningConfig = {
  mail: true,
  chat: [
    { name: "team", type: "Slack", events: ["SignedUp", "ApprovalRequired"] },
    { name: "ops", type: "Teams", events: ["ApplicationAdded", "SubscriptionDeleted", "UserVerified"] },
    { name: "rc", type: "RocketChat", events: ["PasswordResetRequested"] },
  ],
};
const keys = (event: OutboxEvent, c: PlanningConfig = config) =>
  effectsOfOutboxEvent("42", event, c).map((e) => e.key);

describe("effectsOfOutboxEvent", () => {
  it("mails the verification and tells the targets that hear about sign-ups", () => {
    const effects = effectsOfOutboxEvent("42", { type: "UserSignedUp", verifyToken: "t", ...user }, config);
    expect(effects.map((e) => [e.key, e.channel, e.target])).toEqual([
      ["mail:verify-email:42", "email", "ada@example.com"],
      ["chat:team:42", "slack", "team"],
    ]);
    expect(effects[0]?.to).toEqual(["ada@example.com"]);
    expect(effects[0]?.outboxId).toBe("42");
    expect(JSON.stringify(effects)).not.toContain('"t"');
  });

  it("derives the same keys from the same event every time", () => {
    const event: OutboxEvent = { type: "PasswordResetRequested", resetToken: "r", ...user };
    expect(keys(event)).toEqual(keys(event));
    expect(keys(event)).toEqual(["mail:password-reset:42", "chat:rc:42"]);
  });

  it("sends no token mail without a token and no mail without spec.mail", () => {
    expect(keys({ type: "UserSignedUp", verifyToken: null, ...user })).toEqual(["chat:team:42"]);
    expect(
      keys({ type: "VerificationRequested", verifyToken: "t", ...user }, { mail: false, chat: [] }),
    ).toEqual([]);
  });

  it("welcomes a verified user", () => {
    expect(keys({ type: "UserVerified", ...user })).toEqual(["mail:welcome:42", "chat:ops:42"]);
  });

  it("posts application and subscription events only to targets that asked for them", () => {
    const app = { namespace: "ns", application: "app", applicationDisplayName: "App", ...user };
    expect(keys({ type: "ApplicationAdded", ...app })).toEqual(["chat:ops:42"]);
    expect(keys({ type: "ApplicationDeleted", ...app })).toEqual([]);
    const sub = {
      namespace: "ns",
      subscription: "s",
      application: "app",
      api: "orders",
      plan: "gold",
      ...user,
    };
    expect(keys({ type: "SubscriptionDeleted", ...sub })).toEqual(["chat:ops:42"]);
    expect(
      effectsOfOutboxEvent("42", { type: "SubscriptionDeleted", ...sub }, config)[0]?.facts,
    ).toMatchObject({
      api: "orders",
      plan: "gold",
      application: "app",
    });
  });

  it("leaves credential rotations to the Subscription's status", () => {
    expect(
      keys({ type: "CredentialsRotated", namespace: "ns", subscription: "s", api: "a", ...user }),
    ).toEqual([]);
  });
});

describe("keepsToken", () => {
  it("is true only when a verify or reset mail is planned", () => {
    expect(
      keepsToken(effectsOfOutboxEvent("1", { type: "UserSignedUp", verifyToken: "t", ...user }, config)),
    ).toBe(true);
    expect(
      keepsToken(
        effectsOfOutboxEvent(
          "1",
          { type: "UserSignedUp", verifyToken: "t", ...user },
          { ...config, mail: false },
        ),
      ),
    ).toBe(false);
  });
});
