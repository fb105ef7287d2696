import { describe, expect, it } from "vitest";
import { toHtmlString } from "../html.ts";
import { buildReference, exampleFor, findOperation, type Json } from "./model.ts";
import { referenceView } from "./render.ts";
import { buildTryItRequest, maskedHeaders, TryItError } from "./try-it.ts";

const doc: Json = {
  openapi: "3.1.0",
  info: { title: "Pets <b>", version: "2.0.0" },
  servers: [{ url: "https://gw.example.com/pets/" }],
  tags: [{ name: "pets", description: "All about pets." }],
  paths: {
    "/pets/{petId}": {
      parameters: [{ name: "petId", in: "path", required: true, schema: { type: "string" } }],
      get: {
        operationId: "getPet",
        tags: ["pets"],
        summary: "Read a pet",
        parameters: [{ $ref: "#/components/parameters/Verbose" }],
        responses: {
          "200": {
            description: "A pet",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } },
          },
        },
      },
    },
    "/pets": {
      post: {
        tags: ["pets"],
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } },
        },
        responses: { "201": { description: "Created" } },
      },
    },
    "/health": { get: { responses: { "200": { description: "ok" } } } },
  },
  components: {
    parameters: { Verbose: { name: "verbose", in: "query", schema: { type: "boolean" } } },
    securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-Api-Key" } },
    schemas: {
      Pet: {
        type: "object",
        required: ["name"],
        properties: {
          name: { type: "string", example: "Rex" },
          friends: { type: "array", items: { $ref: "#/components/schemas/Pet" } },
          kind: { type: "string", enum: ["dog", "cat"] },
        },
      },
    },
  },
};

describe("buildReference", () => {
  const reference = buildReference(doc);

  it("groups operations by tag (declared order first), merges path and operation parameters and resolves $refs", () => {
    expect(reference.groups.map((g) => g.tag)).toEqual(["pets", "Operations"]);
    const get = findOperation(reference, "getPet");
    expect(get?.method).toBe("GET");
    expect(get?.parameters.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      "path:petId:true",
      "query:verbose:false",
    ]);
    expect(get?.responses[0]?.schema).toEqual({ $ref: "#/components/schemas/Pet" });
    const post = reference.groups[0]?.operations.find((o) => o.method === "POST");
    expect(post?.id).toBe("post-pets");
    expect(post?.requestBody?.required).toBe(true);
  });

  it("takes the gateway's server and authentication from the rewritten document", () => {
    expect(reference.server).toBe("https://gw.example.com/pets");
    expect(reference.security).toEqual({ type: "apiKey", header: "X-Api-Key" });
    expect(reference.schemas.map((s) => s.name)).toEqual(["Pet"]);
  });

  it("reads Swagger 2.0 documents too", () => {
    const swagger = buildReference({
      swagger: "2.0",
      info: { title: "Old", version: "1" },
      host: "gw.example.com",
      basePath: "/old",
      schemes: ["https"],
      securityDefinitions: { apiKey: { type: "apiKey", in: "header", name: "apikey" } },
      paths: {
        "/x": {
          post: {
            parameters: [
              { name: "body", in: "body", schema: { type: "object" } },
              { name: "q", in: "query", type: "string" },
            ],
            responses: { "200": { description: "ok" } },
          },
        },
      },
    });
    expect(swagger.server).toBe("https://gw.example.com/old");
    const op = swagger.groups[0]?.operations[0];
    expect(op?.requestBody?.contentType).toBe("application/json");
    expect(op?.parameters).toEqual([{ name: "q", in: "query", required: false, schema: { type: "string" } }]);
  });

  it("builds example bodies from schemas without looping on recursive $refs", () => {
    expect(exampleFor(doc, { $ref: "#/components/schemas/Pet" })).toEqual({
      name: "Rex",
      friends: [{ name: "Rex", friends: [{ name: "Rex", friends: [null], kind: "dog" }], kind: "dog" }],
      kind: "dog",
    });
  });

  it("renders the reference with everything from the document escaped", () => {
    const out = toHtmlString(
      referenceView(reference, { apiName: "pets", doc, csrfToken: "t", loggedIn: true, credentials: [] }),
    );
    expect(out).toContain("Pets &lt;b&gt;");
    expect(out).toContain('id="op-getPet"');
    expect(out).toContain('name="p.path.petId"');
    expect(out).toContain('action="/apis/pets/try#op-getPet"');
    expect(out).toContain("X-Api-Key");
    expect(out).not.toContain("<b>");
  });
});

describe("try it", () => {
  const reference = buildReference(doc);
  const get = findOperation(reference, "getPet");
  const post = reference.groups[0]?.operations.find((o) => o.method === "POST");
  if (!get || !post) throw new Error("fixture operations missing");
  const pets = { baseUrl: "https://gw.example.com/pets", gatewayUrl: "https://gw.example.com" };

  it("fills path and query parameters, encoded, under the API's base URL, with the credential header", () => {
    const request = buildTryItRequest(
      pets,
      get,
      { "p.path.petId": "a/../b?c", "p.query.verbose": "true" },
      { header: "X-Api-Key", value: "k" },
    );
    expect(request.url).toBe("https://gw.example.com/pets/pets/a%2F..%2Fb%3Fc?verbose=true");
    expect(request.headers["X-Api-Key"]).toBe("k");
    expect(maskedHeaders(request.headers, "X-Api-Key")["X-Api-Key"]).toBe("k…");
  });

  it("refuses missing required parameters, invalid JSON bodies and header injection", () => {
    expect(() => buildTryItRequest(pets, get, {}, undefined)).toThrow(TryItError);
    expect(() => buildTryItRequest(pets, post, { body: "{nope" }, undefined)).toThrow(/not valid JSON/);
    expect(() => buildTryItRequest(pets, post, {}, undefined)).toThrow(/needs a request body/);
    expect(() =>
      buildTryItRequest(pets, get, { "p.path.petId": "1" }, { header: "X-Api-Key", value: "k\r\nX-Evil: 1" }),
    ).toThrow(TryItError);
  });

  it("never leaves the API's base URL, whatever the document's path says", () => {
    const op = { ...get, path: "/../../admin", parameters: [] };
    expect(() => buildTryItRequest(pets, op, {}, undefined)).toThrow(/leaves the API's base URL/);
    const absolute = { ...get, path: "//evil.example/x", parameters: [] };
    expect(buildTryItRequest(pets, absolute, {}, undefined).url).toBe(
      "https://gw.example.com/pets/evil.example/x",
    );
  });

  it("security #6: builds requests only under the portal's gateway, never for a host an Api's route names", () => {
    const op = { ...get, path: "/latest/meta-data", parameters: [] };
    const gatewayUrl = "https://gw.example.com/gateway";
    for (const baseUrl of [
      "https://169.254.169.254",
      "http://gw.example.com/gateway/pets",
      "https://gw.example.com:8443/gateway/pets",
      "https://orders.example.com/gateway",
      "https://gw.example.com/pets",
    ]) {
      expect(() => buildTryItRequest({ baseUrl, gatewayUrl }, op, {}, undefined), baseUrl).toThrow(
        /routed by host name/,
      );
    }
    expect(buildTryItRequest({ baseUrl: `${gatewayUrl}/pets`, gatewayUrl }, op, {}, undefined).url).toBe(
      "https://gw.example.com/gateway/pets/latest/meta-data",
    );
  });
});
