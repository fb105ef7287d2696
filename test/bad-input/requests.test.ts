import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzRequests, type OpenApiDocument, openApiPath, problemOf } from "./requests.ts";

const problem = (status: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: "https://wicked.dev/problems/x",
    title: "Bad request",
    status,
    detail: "Fix it.",
    ...extra,
  });

describe("problemOf", () => {
  it("accepts successes and problem+json refusals", () => {
    expect(problemOf(200, "application/json", "{}")).toBeUndefined();
    expect(problemOf(404, "application/problem+json; charset=utf-8", problem(404))).toBeUndefined();
  });

  it("refuses every 5xx, a 4xx in another media type, a mismatched status and an empty detail", () => {
    expect(problemOf(500, "application/problem+json", problem(500))).toMatch(/^answered 500/);
    expect(problemOf(400, "application/json", problem(400))).toMatch(/not application\/problem\+json/);
    expect(problemOf(400, "application/problem+json", problem(401))).toBe(
      "the problem says status 401, the answer 400",
    );
    expect(problemOf(400, "application/problem+json", problem(400, { detail: " " }))).toMatch(/no detail/);
    expect(problemOf(400, "application/problem+json", "<html>")).toMatch(/not JSON/);
  });
});

describe("fuzzRequests", () => {
  const document: OpenApiDocument = {
    paths: {
      "/applications/{name}": {
        patch: {
          parameters: [{ in: "path", name: "name" }],
          requestBody: { content: { "application/json": { schema: { properties: { displayName: {} } } } } },
        },
      },
    },
  };

  it("fills every path parameter and sends the admin token when it picks it", () => {
    expect(openApiPath("/applications/:name/x/:id")).toBe("/applications/{name}/x/{id}");
    const requests = fc.sample(
      fuzzRequests({ method: "PATCH", url: "/applications/:name" }, document, "t0k"),
      {
        numRuns: 200,
        seed: 1,
      },
    );
    for (const r of requests) {
      expect(r.method).toBe("PATCH");
      expect(r.url).toMatch(/^\/applications\/[^/?]*(\/[^?]*)?(\?.*)?$/);
      expect(r.url).not.toContain(":name");
    }
    expect(requests.some((r) => r.headers.authorization === "Bearer t0k")).toBe(true);
    expect(requests.some((r) => r.payload?.includes('"displayName"'))).toBe(true);
  });
});
