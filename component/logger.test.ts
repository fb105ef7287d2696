import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactUrl } from "./logger.ts";

describe("a component's logs", () => {
  it("never carry passwords, client secrets, codes or tokens", () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: "auth-server",
      destination: new Writable({
        write: (c, _e, done) => {
          lines.push(String(c));
          done();
        },
      }),
    });
    logger.info(
      {
        body: {
          email: "jane@example.com",
          password: "pw-secret",
          _csrf: "csrf-secret",
          client_secret: "cs-secret",
          code_verifier: "cv-secret",
        },
        tokens: { access_token: "at-secret", refresh_token: "rt-secret" },
      },
      "Token request",
    );
    logger.info(
      {
        req: { method: "GET", url: "/auth/federation/corp/callback?code=code-secret&state=st-secret&iss=x" },
      },
      "Callback",
    );
    const out = lines.join("");
    expect(out).not.toMatch(
      /pw-secret|csrf-secret|cs-secret|cv-secret|at-secret|rt-secret|code-secret|st-secret/,
    );
    expect(out).toContain("jane@example.com");
    expect(out).toContain("iss=x");
    expect(redactUrl("/auth/auth?client_id=a&code_challenge=c")).toBe(
      "/auth/auth?client_id=a&code_challenge=c",
    );
  });
});
