import { describe, expect, it } from "vitest";
import {
  apiOfResource,
  apiResource,
  defaultResourceFor,
  ResourceRefused,
  resourceServerFor,
} from "./resources.ts";

const PORTAL_API = "https://dev.example.com/api";
const scopes = async (api: string) => (api === "orders" ? ["orders:read", "orders:write"] : undefined);

describe("resource indicators", () => {
  it("names Apis as urn:wicked:api:<name>", () => {
    expect(apiResource("orders")).toBe("urn:wicked:api:orders");
    expect(apiOfResource("urn:wicked:api:orders")).toBe("orders");
    expect(apiOfResource("urn:wicked:api:Bad Name")).toBeUndefined();
    expect(apiOfResource("https://example.com")).toBeUndefined();
  });

  it("issues JWT access tokens for an Api with its scopes, to its subscription clients only", async () => {
    const server = await resourceServerFor(
      "urn:wicked:api:orders",
      { kind: "subscription", api: "orders" },
      PORTAL_API,
      scopes,
    );
    expect(server).toMatchObject({
      scope: "orders:read orders:write",
      audience: "urn:wicked:api:orders",
      accessTokenFormat: "jwt",
      jwt: { sign: { alg: "RS256" } },
    });
    await expect(
      resourceServerFor(
        "urn:wicked:api:orders",
        { kind: "subscription", api: "billing" },
        PORTAL_API,
        scopes,
      ),
    ).rejects.toThrow(ResourceRefused);
    await expect(
      resourceServerFor("urn:wicked:api:orders", { kind: "first-party" }, PORTAL_API, scopes),
    ).rejects.toThrow(/no subscription/);
    await expect(
      resourceServerFor(
        "urn:wicked:api:billing",
        { kind: "subscription", api: "billing" },
        PORTAL_API,
        scopes,
      ),
    ).rejects.toThrow(/does not take OAuth2/);
  });

  it("issues portal API tokens to the portal's own clients only", async () => {
    const server = await resourceServerFor(PORTAL_API, { kind: "first-party" }, PORTAL_API, scopes);
    expect(server.scope).toBe("portal.read portal.write portal.approve portal.admin");
    await expect(
      resourceServerFor(PORTAL_API, { kind: "subscription", api: "orders" }, PORTAL_API, scopes),
    ).rejects.toThrow(/portal's own clients/);
    await expect(
      resourceServerFor("https://elsewhere.example.com", { kind: "first-party" }, PORTAL_API, scopes),
    ).rejects.toThrow(/unknown resource/);
  });

  it("defaults each client to its own resource", () => {
    expect(defaultResourceFor({ kind: "first-party" }, PORTAL_API)).toBe(PORTAL_API);
    expect(defaultResourceFor({ kind: "subscription", api: "orders" }, PORTAL_API)).toBe(
      "urn:wicked:api:orders",
    );
    expect(defaultResourceFor({ kind: "unknown" }, PORTAL_API)).toBeUndefined();
  });
});
