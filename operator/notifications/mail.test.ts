import { describe, expect, it } from "vitest";
import { EFFECT_KEY_HEADER, mailValues, messageIdFor, renderMail } from "./mail.ts";
import { templateSet } from "./mail-templates.ts";

const portal = { portalName: "Shop Portal", portalUrl: "https://dev.shop.example" };
const from = "Shop <noreply@shop.example>";

describe("messageIdFor", () => {
  it("is the same for the same effect key and differs between keys, in the sender's domain", () => {
    const a = messageIdFor("mail:verify-email:1", from);
    expect(a).toBe(messageIdFor("mail:verify-email:1", "other@shop.example"));
    expect(a).not.toBe(messageIdFor("mail:verify-email:2", from));
    expect(a).toMatch(/^<wicked\.[0-9a-f]{32}@shop\.example>$/);
  });
});

describe("renderMail", () => {
  const templates = templateSet(undefined, "");

  it("links the verification with the token and addresses the user", () => {
    const mail = renderMail(
      {
        key: "mail:verify-email:7",
        kind: "verify-email",
        to: ["ada@example.com"],
        facts: { userName: "Ada", email: "ada@example.com" },
      },
      portal,
      templates,
      from,
      "tok/en+1",
    );
    expect(mail.to).toEqual(["ada@example.com"]);
    expect(mail.subject).toBe("Confirm your email address for Shop Portal");
    expect(mail.text).toContain("https://dev.shop.example/verify-email?token=tok%2Fen%2B1");
    expect(mail.html).toContain('href="https://dev.shop.example/verify-email?token=tok%2Fen%2B1"');
    expect(mail.headers[EFFECT_KEY_HEADER]).toBe("mail:verify-email:7");
    expect(mail.messageId).toBe(messageIdFor("mail:verify-email:7", from));
  });

  it("escapes a user name with HTML in the HTML part only", () => {
    const mail = renderMail(
      {
        key: "k",
        kind: "welcome",
        to: ["x@example.com"],
        facts: { userName: "<img src=x onerror=alert(1)>", email: "x@example.com" },
      },
      portal,
      templates,
      from,
    );
    expect(mail.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(mail.html).not.toContain("<img");
    expect(mail.text).toContain("<img src=x onerror=alert(1)>");
  });

  it("says who rejected and why", () => {
    const mail = renderMail(
      {
        key: "k",
        kind: "subscription-rejected",
        to: ["o@example.com"],
        facts: {
          userName: "Owner",
          api: "Orders",
          application: "Shop App",
          plan: "gold",
          reason: "Not a partner",
          decidedBy: "boss@example.com",
        },
      },
      portal,
      templates,
      from,
    );
    expect(mail.subject).toBe("Your subscription to Orders was rejected");
    expect(mail.text).toContain(
      "boss@example.com rejected the subscription of Shop App to Orders (gold plan):\n\nNot a partner",
    );
  });

  it("refuses to render a kind whose override is broken, naming the key", () => {
    const broken = templateSet({ "password-reset.text": "{{verifyUrl}}" }, "ConfigMap ns/t");
    expect(() =>
      renderMail({ key: "k", kind: "password-reset", to: ["a@b.c"], facts: {} }, portal, broken, from, "t"),
    ).toThrow("ConfigMap ns/t key password-reset.text uses {{verifyUrl}}");
  });
});

describe("mailValues", () => {
  it("offers exactly the placeholders of the kind, with neutral wording for missing facts", () => {
    const values = mailValues(
      "subscription-approved",
      { userName: "Ada", applicationName: "my app" },
      portal,
    );
    expect(values.decidedBy).toBe("an approver");
    expect(values.applicationUrl).toBe("https://dev.shop.example/applications/my%20app");
    expect(values).not.toHaveProperty("verifyUrl");
  });
});
