import { describe, expect, it } from "vitest";
import { healthCondition, NotificationsReason } from "./health.ts";
import { templateSet } from "./mail-templates.ts";
import type { NotificationSettings } from "./settings.ts";

const base: NotificationSettings = {
  portalKey: "ns/p",
  portal: { portalName: "P", portalUrl: "https://p" },
  approverGroup: "approver",
  chat: [],
  databaseUrl: "postgres://x/y",
};
const mail = {
  from: "a@b.c",
  adminAddresses: [],
  smtpUrl: "smtp://h:25",
  templates: templateSet(undefined, ""),
};

describe("healthCondition", () => {
  it("is True when everything was delivered", () => {
    expect(
      healthCondition({ ...base, mail }, { summary: { pending: 0, failing: 0, failures: [] } }),
    ).toMatchObject({
      status: "True",
      reason: NotificationsReason.Delivered,
      message: "Every notification was delivered",
    });
  });

  it("is False while deliveries fail, naming each failing channel", () => {
    const c = healthCondition(
      { ...base, mail },
      {
        summary: {
          pending: 5,
          failing: 3,
          failures: [
            { channel: "email", target: "", error: "Cannot reach the SMTP server (ECONNREFUSED)" },
            { channel: "slack", target: "team", error: "The chat webhook answered 500" },
          ],
        },
      },
    );
    expect(c.status).toBe("False");
    expect(c.reason).toBe(NotificationsReason.DeliveryFailing);
    expect(c.message).toBe(
      "Notifications could not be delivered yet; they stay pending and are retried with backoff. email: Cannot reach the SMTP server (ECONNREFUSED); chat target team: The chat webhook answered 500",
    );
  });

  it("reports a missing Secret before any mail is due", () => {
    const c = healthCondition(
      { ...base, mail: { ...mail, problem: "Secret ns/smtp does not exist; create it with the key url" } },
      { summary: { pending: 0, failing: 0, failures: [] } },
    );
    expect(c).toMatchObject({ status: "False", reason: NotificationsReason.ConfigurationInvalid });
    expect(c.message).toContain("mail: Secret ns/smtp does not exist");
  });

  it("says when nothing is configured and when the database cannot be read", () => {
    expect(healthCondition(base, { summary: { pending: 0, failing: 0, failures: [] } }).reason).toBe(
      NotificationsReason.NotConfigured,
    );
    expect(healthCondition(base, { databaseProblem: "connection refused" })).toMatchObject({
      status: "False",
      reason: NotificationsReason.DatabaseUnavailable,
    });
  });
});
