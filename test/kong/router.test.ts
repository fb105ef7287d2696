// Unit tests of the Kong test double's router: attribute matching, priorities and upstream paths.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "./json.ts";
import { matchRoute, type RoutableRequest, upstreamPath } from "./router.ts";

function request(path: string, extra: Partial<RoutableRequest> = {}): RoutableRequest {
  return { method: "GET", host: "api.example.com", path, headers: {}, ...extra };
}

function route(id: string, fields: JsonObject): JsonObject {
  return { id, created_at: 1, strip_path: true, path_handling: "v0", regex_priority: 0, ...fields };
}

describe("route matching", () => {
  it("the longest matching prefix wins", () => {
    const routes = [route("short", { paths: ["/api"] }), route("long", { paths: ["/api/v1"] })];
    expect(matchRoute(routes, request("/api/v1/users"))?.route.id).toBe("long");
    expect(matchRoute(routes, request("/api/v2"))?.route.id).toBe("short");
    expect(matchRoute(routes, request("/other"))).toBeUndefined();
  });

  it("every configured attribute must match: methods, hosts (with wildcards) and headers", () => {
    const r = route("r", {
      paths: ["/"],
      methods: ["POST"],
      hosts: ["*.example.com"],
      headers: { "x-version": ["2"] },
    });
    const ok = request("/", { method: "POST", headers: { "x-version": ["2"] } });
    expect(matchRoute([r], ok)?.route.id).toBe("r");
    expect(matchRoute([r], { ...ok, method: "GET" })).toBeUndefined();
    expect(matchRoute([r], { ...ok, host: "example.org" })).toBeUndefined();
    expect(matchRoute([r], { ...ok, headers: { "x-version": ["1"] } })).toBeUndefined();
  });

  it("a route matching more kinds of attributes beats a longer path alone", () => {
    const routes = [
      route("path", { paths: ["/api/v1"] }),
      route("host", { paths: ["/api"], hosts: ["api.example.com"] }),
    ];
    expect(matchRoute(routes, request("/api/v1"))?.route.id).toBe("host");
  });

  it("regex paths start with ~ and match from the start of the path", () => {
    const routes = [route("re", { paths: ["~/users/\\d+"] })];
    expect(matchRoute(routes, request("/users/42/posts"))?.matchedPath).toBe("/users/42");
    expect(matchRoute(routes, request("/x/users/42"))).toBeUndefined();
  });
});

describe("upstream path", () => {
  const match = (fields: JsonObject) => ({ route: route("r", fields), matchedPath: "/fee" });

  it("strip_path removes the matched prefix, v0 joins with a slash, v1 concatenates", () => {
    expect(upstreamPath({ path: "/s" }, match({}), "/fee/x")).toBe("/s/x");
    expect(upstreamPath({ path: "/s" }, match({}), "/feex")).toBe("/s/x");
    expect(upstreamPath({ path: "/s" }, match({ path_handling: "v1" }), "/feex")).toBe("/sx");
    expect(upstreamPath({ path: "/s/" }, match({}), "/fee/x")).toBe("/s/x");
    expect(upstreamPath({ path: "/s" }, match({}), "/fee")).toBe("/s");
    expect(upstreamPath({ path: null }, match({}), "/fee")).toBe("/");
  });

  it("without strip_path the whole request path follows the service path", () => {
    expect(upstreamPath({ path: "/s" }, match({ strip_path: false }), "/fee/x")).toBe("/s/fee/x");
    expect(upstreamPath({ path: null }, match({ strip_path: false }), "/fee/x")).toBe("/fee/x");
  });
});
