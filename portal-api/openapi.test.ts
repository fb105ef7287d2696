import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PortalApi } from "./app.ts";
import { offlinePortalApi } from "./test-support.ts";

type Operation = { responses?: Record<string, unknown>; parameters?: Array<{ in: string; name: string }> };
type Document = {
  openapi: string;
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
};

const METHODS = ["get", "put", "post", "delete", "patch", "options", "head"];

describe("the OpenAPI document at /openapi.json", () => {
  let api: PortalApi & { close(): Promise<void> };
  let doc: Document;

  beforeAll(async () => {
    api = await offlinePortalApi();
    const res = await api.app.inject("/openapi.json");
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });
  afterAll(() => api.close());

  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(doc.servers).toEqual([{ url: "https://developer.example.com/api" }]);
  });

  it("documents every route fastify serves, and nothing else", () => {
    const served = api.routes
      .filter((r) => r.method !== "HEAD")
      .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, "{$1}")}`)
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((k) => METHODS.includes(k))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(served);
    expect(served.length).toBeGreaterThan(30);
    for (const entry of documented) {
      const [method = "", path = ""] = entry.split(" ");
      const url = path.replace(/\{([A-Za-z]+)\}/g, ":$1");
      expect(api.app.hasRoute({ method: method as "GET", url }), entry).toBe(true);
    }
  });

  it("gives every operation a success response, problem responses and its path parameters", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const codes = Object.keys(operation.responses ?? {});
        expect(
          codes.some((c) => /^2\d\d$/.test(c)),
          `${method} ${path}`,
        ).toBe(true);
        expect(codes, `${method} ${path}`).toEqual(expect.arrayContaining(["4XX", "5XX"]));
        const params = [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]);
        const declared = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(declared.sort(), `${method} ${path}`).toEqual(params.sort());
      }
    }
  });
});
