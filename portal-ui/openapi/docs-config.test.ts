import { describe, expect, it } from "vitest";
import type { Application, Subscription } from "../api-types.ts";
import { credentialCandidates, docsAuth, securitySchemeName } from "./docs-config.ts";

const app = (name: string, role: Application["role"], displayName = name): Application => ({
  name,
  displayName,
  owner: "dana@example.com",
  clientType: "confidential",
  redirectUris: [],
  collaborators: [],
  clientId: null,
  role,
});

const sub = (name: string, application: string, phase = "Active", credentialsReady = true): Subscription => ({
  name,
  application,
  api: "orders",
  plan: "free",
  phase,
  approval: "Approved",
  credentialsReady,
});

const keyDoc = {
  openapi: "3.0.3",
  components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-Api-Key" } } },
};

const oauthDoc = {
  openapi: "3.0.3",
  components: {
    securitySchemes: {
      oauth2: {
        type: "oauth2",
        flows: {
          clientCredentials: { tokenUrl: "https://auth/token", scopes: { "orders:read": "Read" } },
          authorizationCode: {
            authorizationUrl: "https://auth/auth",
            tokenUrl: "https://auth/token",
            scopes: { "orders:read": "Read", "orders:write": "Write" },
          },
        },
      },
    },
  },
};

describe("the credentials the interactive docs fill in", () => {
  it("takes only active subscriptions with issued credentials of applications the user may use", () => {
    const candidates = credentialCandidates(
      [
        sub("pending", "shop", "PendingApproval", false),
        sub("not-issued", "shop", "Active", false),
        sub("reader", "theirs"),
        sub("unknown-app", "gone"),
        sub("good", "shop"),
        sub("collab", "team"),
      ],
      [app("shop", "Owner", "Storefront"), app("theirs", "Reader"), app("team", "Collaborator", "Team app")],
    );
    expect(candidates).toEqual([
      { subscription: "good", application: "Storefront" },
      { subscription: "collab", application: "Team app" },
    ]);
  });

  it("fills a key into the document's apiKey scheme, by the scheme's name", () => {
    expect(
      docsAuth(
        keyDoc,
        { subscription: "s", type: "key-auth", apiKey: "k-1", keyHeader: "X-Api-Key" },
        "Shop",
      ),
    ).toEqual({ type: "apiKey", scheme: "apiKey", key: "k-1", application: "Shop" });
    const swagger2 = { swagger: "2.0", securityDefinitions: { gatewayKey: { type: "apiKey", name: "k" } } };
    expect(securitySchemeName(swagger2, "apiKey")).toBe("gatewayKey");
  });

  it("fills the client id and every scope of the oauth2 scheme, never the client secret", () => {
    const auth = docsAuth(
      oauthDoc,
      { subscription: "s", type: "oauth2", clientId: "wk-abc", clientSecret: "very-secret" },
      "Shop",
    );
    expect(auth).toEqual({
      type: "oauth2",
      scheme: "oauth2",
      clientId: "wk-abc",
      scopes: ["orders:read", "orders:write"],
      application: "Shop",
    });
    expect(JSON.stringify(auth)).not.toContain("very-secret");
  });

  it("fills nothing when the document has no scheme the credentials fit", () => {
    expect(docsAuth(oauthDoc, { subscription: "s", type: "key-auth", apiKey: "k" }, "Shop")).toBeUndefined();
    expect(docsAuth(keyDoc, { subscription: "s", type: "oauth2", clientId: "c" }, "Shop")).toBeUndefined();
    expect(docsAuth(keyDoc, { subscription: "s", type: "key-auth" }, "Shop")).toBeUndefined();
  });
});
