import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { addSecurityHeaders } from "./security-headers.ts";

describe("security headers", () => {
  it("puts helmet's headers on every response, hijacked ones and 404s included", async () => {
    const app = Fastify();
    addSecurityHeaders(app, {
      contentSecurityPolicy: { useDefaults: true, directives: { "form-action": null } },
      hsts: false,
    });
    app.get("/plain", async () => "ok");
    app.get("/raw", async (_request, reply) => {
      reply.hijack();
      reply.raw.end("raw");
    });
    for (const url of ["/plain", "/raw", "/missing"]) {
      const res = await app.inject({ url });
      expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(res.headers["content-security-policy"]).not.toContain("form-action");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["strict-transport-security"]).toBeUndefined();
    }
    await app.close();
  });
});
