import { describe, expect, it } from "vitest";
import { clientMetadata, readModelClients, type SecretReader } from "./clients.ts";

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

  it("carries the Api's scopes with each client, so issuing a token needs no lookup", async () => {
    const { db, secrets } = readModel(1);
    const directory = readModelClients({ db, secrets, namespace: "team", now: () => 0 });
    expect(await directory.find("client-0")).toMatchObject({
      api: "orders",
      scopes: ["orders.read", "orders.write"],
    });
  });

  it("security #7: 100 unknown client ids cause at most one reload, even while reloads fail", async () => {
    const { db, reads, secrets, loads } = readModel(3);
    secrets.readSecret = async () => {
      reads.count += 1;
      throw new Error("Could not read the Secret team/sub-0-credentials (HTTP 403)");
    };
    const directory = readModelClients({ db, secrets, namespace: "team", now: () => 0 });
    const ids = Array.from({ length: 100 }, (_, i) => `random-${i}`);
    await Promise.all(ids.slice(0, 50).map((id) => directory.find(id).catch(() => undefined)));
    for (const id of ids.slice(50)) await directory.find(id).catch(() => undefined);
    expect(loads.count).toBe(1);
    expect(reads.count).toBe(1);
  });

  it("security #7: a reload for an unknown client id reads only the credentials Secrets it has not read", async () => {
    const { db, reads, secrets, loads, rows } = readModel(50);
    let now = 0;
    const directory = readModelClients({
      db,
      secrets,
      namespace: "team",
      missReloadMs: 2000,
      ttlMs: 10_000,
      now: () => now,
    });
    expect((await directory.find("client-0"))?.subscription).toBe("sub-0");
    expect(reads.count).toBe(50);
    // A new subscription, and a flood of made-up ids.
    rows.push(subscriptionRow(50));
    now = 2500;
    expect((await directory.find("client-50"))?.subscription).toBe("sub-50");
    for (let i = 0; i < 100; i++) await directory.find(`random-${i}`);
    expect(loads.count).toBe(2);
    expect(reads.count).toBe(51);
    // The cache time still rereads every Secret, so rotated secrets are seen.
    now = 12_600;
    await directory.find("client-0");
    expect(loads.count).toBe(3);
    expect(reads.count).toBe(102);
  });
});

/** A read-model row of an OAuth2 subscription whose Secret holds `client-<i>`. */
function subscriptionRow(i: number) {
  return {
    name: `sub-${i}`,
    api_name: "orders",
    credentials_secret: `sub-${i}-credentials`,
    api_spec: { auth: { type: "oauth2", scopes: [{ name: "orders.read" }, { name: "orders.write" }] } },
    client_spec: { displayName: "Shop", clientType: "confidential", redirectUris: [] },
  };
}

/** A read model with n OAuth2 subscriptions, counting its queries and Secret reads. */
function readModel(n: number) {
  const rows = Array.from({ length: n }, (_, i) => subscriptionRow(i));
  const loads = { count: 0 };
  const reads = { count: 0 };
  const db = {
    selectFrom: () => {
      loads.count += 1;
      const chain = {
        innerJoin: () => chain,
        select: () => chain,
        where: () => chain,
        execute: async () => [...rows],
      };
      return chain;
    },
  };
  const secrets: SecretReader = {
    async readSecret(name: string) {
      reads.count += 1;
      const i = /^sub-(\d+)-credentials$/.exec(name)?.[1];
      return { clientId: `client-${i}`, clientSecret: `secret-${i}` };
    },
  };
  return { db: db as never, rows, loads, reads, secrets };
}
