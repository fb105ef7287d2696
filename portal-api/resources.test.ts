import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applicationName,
  applicationResource,
  OWNER_LABEL,
  ownerLabel,
  slug,
  subscriptionName,
  subscriptionResource,
} from "./resources.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe("resource names", () => {
  it("derives DNS-1123 labels from any display name", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.string({ maxLength: 120 }), (user, displayName) => {
        const name = applicationName(user, displayName);
        expect(name).toMatch(DNS_LABEL);
        expect(name.length).toBeLessThanOrEqual(63);
      }),
    );
    expect(slug("Café Bestellungen!", 40)).toBe("cafe-bestellungen");
    expect(slug("!!!", 40)).toBe("app");
  });

  it("keeps one user's applications apart from another's with the same display name", () => {
    const a = applicationName("11111111-1111-1111-1111-111111111111", "My App");
    const b = applicationName("22222222-2222-2222-2222-222222222222", "My App");
    expect(a).not.toBe(b);
    expect(a.startsWith("my-app-")).toBe(true);
    expect(applicationName("11111111-1111-1111-1111-111111111111", "My App")).toBe(a);
  });

  it("names a subscription after its application and Api, within 63 characters", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][-a-z0-9]{0,61}[a-z0-9]$/),
        fc.stringMatching(/^[a-z0-9][-a-z0-9.]{0,100}[a-z0-9]$/),
        (app, api) => {
          const name = subscriptionName(app, api);
          expect(name).toMatch(DNS_LABEL);
          expect(name.length).toBeLessThanOrEqual(63);
        },
      ),
    );
    expect(subscriptionName("shop", "orders")).toMatch(/^shop-orders-[0-9a-f]{8}$/);
    expect(subscriptionName("shop", "orders")).not.toBe(subscriptionName("shop", "orders-v2"));
  });

  it("labels resources with a hash of the user id, never the email", () => {
    const user = { id: "7d0c3f4e-9b5a-4d7e-8a61-2f3b4c5d6e7f", email: "jane@example.com" };
    const client = applicationResource({ namespace: "team", name: "demo" }, user, { displayName: "Shop" });
    expect(client.metadata.labels?.[OWNER_LABEL]).toBe(ownerLabel(user.id));
    expect(ownerLabel(user.id)).toMatch(LABEL_VALUE);
    expect(JSON.stringify(client.metadata.labels)).not.toContain("jane");
    expect(client.spec).toEqual({
      displayName: "Shop",
      owner: "jane@example.com",
      clientType: "confidential",
    });
    const sub = subscriptionResource({ namespace: "team", name: "demo" }, user, {
      application: client.metadata.name ?? "",
      api: "orders",
      plan: "basic",
    });
    expect(sub.spec).toEqual({
      clientRef: { name: client.metadata.name },
      apiRef: { name: "orders" },
      planRef: { name: "basic" },
    });
    expect(sub.metadata.namespace).toBe("team");
  });
});
