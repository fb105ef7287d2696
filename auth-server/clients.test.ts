import { describe, expect, it } from "vitest";
import { clientMetadata, readModelClients } from "./clients.ts";

const row = (
  flows: Array<"authorization_code" | "client_credentials"> | undefined,
  clientType: "public" | "confidential",
  redirectUris?: string[],
) => ({
  subscription: "shop-orders-1234",
  api: "orders",
  apiSpec: { auth: { type: "oauth2" as const, flows } },
  clientSpec: { displayName: "Shop", clientType, redirectUris },
});

describe("OAuth clients of subscriptions", () => {
  it("gives a confidential client the Api's flows with refresh tokens and basic authentication", () => {
    expect(
      clientMetadata(row(undefined, "confidential", ["https://shop.example.com/cb"]), {
        clientId: "c1",
        clientSecret: "s1",
      }),
    ).toEqual({
      client_id: "c1",
      client_secret: "s1",
      client_name: "Shop",
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
      response_types: ["code"],
      redirect_uris: ["https://shop.example.com/cb"],
      token_endpoint_auth_method: "client_secret_basic",
    });
  });

  it("gives a public client no secret and no client_credentials", () => {
    const metadata = clientMetadata(row(undefined, "public", ["http://localhost:3000/cb"]), {
      clientId: "p1",
      clientSecret: "ignored",
    });
    expect(metadata).toMatchObject({
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
    });
    expect(metadata?.client_secret).toBeUndefined();
  });

  it("leaves out the code flow without redirect URIs, and the client when no grant is left", () => {
    expect(
      clientMetadata(row(["client_credentials"], "confidential"), { clientId: "c", clientSecret: "s" }),
    ).toMatchObject({
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
    });
    expect(
      clientMetadata(row(["client_credentials"], "public", ["http://localhost/cb"]), { clientId: "p" }),
    ).toBeUndefined();
    expect(clientMetadata(row(["client_credentials"], "confidential"), { clientId: "c" })).toBeUndefined();
  });

  it("reloads the directory for an unknown id at most once per interval", async () => {
    let loads = 0;
    const db = {
      selectFrom: () => {
        loads += 1;
        const chain = {
          innerJoin: () => chain,
          select: () => chain,
          where: () => chain,
          execute: async () => [],
        };
        return chain;
      },
    };
    let now = 0;
    const directory = readModelClients({
      db: db as never,
      secrets: { readSecret: async () => undefined },
      namespace: "team",
      missReloadMs: 2000,
      ttlMs: 10_000,
      now: () => now,
    });
    expect(await directory.find("nope")).toBeUndefined();
    expect(await directory.find("nope-again")).toBeUndefined();
    expect(loads).toBe(1);
    now = 2500;
    await directory.find("nope");
    expect(loads).toBe(2);
  });
});
