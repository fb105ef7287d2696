import { describe, expect, it } from "vitest";
import {
  apiOfResource,
  apiResource,
  defaultResourceFor,
  ResourceRefused,
  resourceServerFor,
} from "./resources.ts";

const PORTAL_API = "https://dev.example.com/api";
const orders = { kind: "subscription", api: "orders", scopes: ["orders:read", "orders:write"] } as const;

describe("resource indicators", () => {
  it("names Apis as urn:wicked:api:<name>", () => {
    expect(apiResource("orders")).toBe("urn:wicked:api:orders");
    expect(apiOfResource("urn:wicked:api:orders")).toBe("orders");
    expect(apiOfResource("urn:wicked:api:Bad Name")).toBeUndefined();
    expect(apiOfResource("https://example.com")).toBeUndefined();
  });

  it("issues JWT access tokens for an Api with its scopes, to its subscription clients only", () => {
    expect(resourceServerFor("urn:wicked:api:orders", orders, PORTAL_API)).toMatchObject({
      scope: "orders:read orders:write",
      audience: "urn:wicked:api:orders",
      accessTokenFormat: "jwt",
      jwt: { sign: { alg: "RS256" } },
    });
    expect(() =>
      resourceServerFor("urn:wicked:api:orders", { ...orders, api: "billing" }, PORTAL_API),
    ).toThrow(ResourceRefused);
    expect(() => resourceServerFor("urn:wicked:api:orders", { kind: "first-party" }, PORTAL_API)).toThrow(
      /no subscription/,
    );
  });

  it("issues portal API tokens to the portal's own clients only", () => {
    const server = resourceServerFor(PORTAL_API, { kind: "first-party" }, PORTAL_API);
    expect(server.scope).toBe("portal.read portal.write portal.approve portal.admin");
    expect(() => resourceServerFor(PORTAL_API, orders, PORTAL_API)).toThrow(/portal's own clients/);
    expect(() =>
      resourceServerFor("https://elsewhere.example.com", { kind: "first-party" }, PORTAL_API),
    ).toThrow(/unknown resource/);
  });

  it("defaults each client to its own resource", () => {
    expect(defaultResourceFor({ kind: "first-party" }, PORTAL_API)).toBe(PORTAL_API);
    expect(defaultResourceFor(orders, PORTAL_API)).toBe("urn:wicked:api:orders");
    expect(defaultResourceFor({ kind: "unknown" }, PORTAL_API)).toBeUndefined();
  });
});
