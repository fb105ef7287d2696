import { describe, expect, it } from "vitest";
import { DEFAULT_KEY_HEADER } from "../api/v1alpha1/index.ts";
import { apiBaseUrl, OpenApiDocumentError, parseOpenApi, rewriteOpenApi } from "./openapi-rewrite.ts";

const view = {
  gatewayUrl: "https://api.example.com",
  tokenUrl: "https://dev.example.com/auth/token",
  authorizationUrl: "https://dev.example.com/auth/auth",
};

const doc = {
  openapi: "3.0.3",
  info: { title: "Orders", version: "1" },
  servers: [{ url: "http://orders.internal:8080" }],
  security: [{ basic: [] }],
  paths: { "/orders": { get: { security: [{ basic: [] }], responses: { "200": { description: "ok" } } } } },
  components: {
    schemas: { Order: { type: "object" } },
    securitySchemes: { basic: { type: "http", scheme: "basic" } },
  },
};

describe("the Api's OpenAPI document for the gateway", () => {
  it("points servers at the gateway and the route's prefix", () => {
    expect(apiBaseUrl({ routes: [{ paths: ["/orders/"] }] }, view.gatewayUrl)).toBe(
      "https://api.example.com/orders",
    );
    expect(apiBaseUrl({ routes: [{ paths: ["/orders"], stripPath: false }] }, view.gatewayUrl)).toBe(
      "https://api.example.com",
    );
    expect(apiBaseUrl({ routes: [{ hosts: ["orders.example.com"] }] }, "http://gw.local:8000")).toBe(
      "http://orders.example.com:8000",
    );
  });

  it("replaces the document's security with the key header of key-auth Apis", () => {
    const out = rewriteOpenApi(
      doc,
      { routes: [{ paths: ["/shop"] }], auth: { type: "key-auth", keyHeader: "X-Key" } },
      view,
    );
    expect(out.servers).toEqual([{ url: "https://api.example.com/shop", description: "The gateway" }]);
    expect(out.security).toEqual([{ apiKey: [] }]);
    expect((out.components as { securitySchemes: unknown }).securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: "apiKey", in: "header", name: "X-Key" }),
    });
    expect((out.components as { schemas: unknown }).schemas).toEqual(doc.components.schemas);
    expect(
      (out.paths as Record<string, Record<string, { security?: unknown }>>)["/orders"]?.get?.security,
    ).toBeUndefined();
    expect(doc.paths["/orders"].get.security).toEqual([{ basic: [] }]);
  });

  it("describes the auth server's flows and the Api's scopes for oauth2 Apis", () => {
    const out = rewriteOpenApi(
      doc,
      {
        routes: [{ paths: ["/shop"] }],
        auth: {
          type: "oauth2",
          scopes: [{ name: "orders:read", description: "Read" }],
          flows: ["client_credentials"],
        },
      },
      view,
    );
    expect((out.components as { securitySchemes: unknown }).securitySchemes).toEqual({
      oauth2: expect.objectContaining({
        type: "oauth2",
        flows: { clientCredentials: { tokenUrl: view.tokenUrl, scopes: { "orders:read": "Read" } } },
      }),
    });
    expect(out.security).toEqual([{ oauth2: ["orders:read"] }]);
  });

  it("drops security entirely for open Apis, and rewrites Swagger 2.0 documents too", () => {
    const open = rewriteOpenApi(doc, { routes: [{ paths: ["/shop"] }], auth: { type: "none" } }, view);
    expect(open.security).toEqual([]);
    const swagger = rewriteOpenApi(
      { swagger: "2.0", info: {}, paths: {} },
      { routes: [{ paths: ["/v1"] }] },
      view,
    );
    expect(swagger).toMatchObject({
      host: "api.example.com",
      basePath: "/v1",
      schemes: ["https"],
      security: [{ apiKey: [] }],
    });
  });

  it("names the gateway's default key header (the operator's X-Api-Key) when the Api names none", () => {
    const v3 = rewriteOpenApi(doc, { routes: [{ paths: ["/shop"] }], auth: { type: "key-auth" } }, view);
    expect(
      (v3.components as { securitySchemes: Record<string, unknown> }).securitySchemes.apiKey,
    ).toMatchObject({ type: "apiKey", in: "header", name: DEFAULT_KEY_HEADER });
    const v2 = rewriteOpenApi(
      { swagger: "2.0", info: {}, paths: {} },
      { routes: [{ paths: ["/v1"] }] },
      view,
    );
    expect((v2.securityDefinitions as Record<string, unknown>).apiKey).toMatchObject({
      name: DEFAULT_KEY_HEADER,
    });
    expect(DEFAULT_KEY_HEADER).toBe("X-Api-Key");
  });

  it("parses JSON and YAML, and refuses what is not an OpenAPI document", () => {
    expect(parseOpenApi('{"openapi":"3.1.0","info":{}}').openapi).toBe("3.1.0");
    expect(parseOpenApi("openapi: 3.1.0\ninfo: {}\n").openapi).toBe("3.1.0");
    expect(() => parseOpenApi("just: yaml")).toThrow(OpenApiDocumentError);
    expect(() => parseOpenApi("{ not json")).toThrow(OpenApiDocumentError);
  });

  it("security #6: says where a document is not YAML without quoting any of it", () => {
    // The URL may point at something that is not a document, such as a page of configuration.
    for (const text of ["db-password: s3cr3t-value\n  - nested: [oops", "token: s3cr3t\n\tbad: tab"]) {
      let refusal: unknown;
      try {
        parseOpenApi(text);
      } catch (err) {
        refusal = err;
      }
      expect(refusal).toBeInstanceOf(OpenApiDocumentError);
      const message = (refusal as Error).message;
      expect(message).toMatch(/line \d+, column \d+/);
      expect(message).not.toContain("s3cr3t");
    }
  });
});
