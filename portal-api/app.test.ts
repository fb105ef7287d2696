import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ApiPortal } from "../api/v1alpha1/index.ts";
import { createLogger, redactUrl } from "../component/logger.ts";
import { createDatabase } from "../db/connect.ts";
import { componentConfig } from "../operator/apiportal/components.ts";
import { createPortalApi } from "./app.ts";
import { ConfigError, parsePortalApiConfig } from "./config.ts";
import { offlinePortalApi, testConfig, unreachableKube } from "./test-support.ts";

describe("the portal API's error answers", () => {
  it("answers unknown routes, missing tokens and invalid bodies with problem+json", async () => {
    const api = await offlinePortalApi();
    try {
      const missing = await api.app.inject("/nowhere");
      expect(missing.statusCode).toBe(404);
      expect(missing.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(missing.json()).toMatchObject({
        type: "https://wicked.dev/problems/no-such-route",
        status: 404,
      });

      const anonymous = await api.app.inject("/me");
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_request"/);

      const invalid = await api.app.inject({
        method: "POST",
        url: "/accounts",
        payload: { email: "not-an-address", displayName: "", password: "x" },
      });
      expect(invalid.statusCode).toBe(400);
      const body = invalid.json();
      expect(body.type).toBe("https://wicked.dev/problems/validation-failed");
      expect(body.errors.map((e: { path: string }) => e.path)).toEqual(
        expect.arrayContaining(["/body/email"]),
      );
      expect(body.instance).toBe("/accounts");
    } finally {
      await api.close();
    }
  });

  it("refuses a forged bearer token before touching the database", async () => {
    const api = await offlinePortalApi();
    try {
      const res = await api.app.inject({
        url: "/me",
        headers: { authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toContain("not valid for the portal API");
    } finally {
      await api.close();
    }
  });

  it("throttles the account routes per client address (429 problem)", async () => {
    const db = createDatabase("postgres://nobody:nothing@127.0.0.1:9/none", { connectionTimeoutMs: 100 });
    const lines: string[] = [];
    const logger = createLogger({
      name: "portal-api",
      level: "silent",
      destination: new Writable({
        write: (c, _e, done) => {
          lines.push(String(c));
          done();
        },
      }),
    });
    const api = await createPortalApi({
      config: testConfig(),
      db,
      kube: unreachableKube,
      logger,
      rateLimit: { max: 2, timeWindowMs: 60_000 },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await api.app.inject({
          method: "POST",
          url: "/accounts/password-reset",
          payload: { email: "a@example.com" },
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) expect(res.headers["content-type"]).toMatch(/problem\+json/);
      }
      expect(statuses[2]).toBe(429);
      expect(statuses.slice(0, 2)).not.toContain(429);
    } finally {
      await api.stop();
      await db.destroy();
    }
  });
});

describe("configuration", () => {
  it("reads the configuration the operator renders for the portal API", () => {
    const portal: ApiPortal = {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiPortal",
      metadata: { name: "demo", namespace: "team" },
      spec: {
        displayName: "Demo",
        urls: { portal: "https://dev.example.com", gateway: "https://api.example.com" },
        database: { urlSecretRef: { name: "db", key: "url" } },
        gateway: { mode: "None" },
      },
    };
    const config = parsePortalApiConfig(JSON.parse(JSON.stringify(componentConfig(portal, "portal-api"))));
    expect(config.urls).toEqual({
      portal: "https://dev.example.com",
      api: "https://dev.example.com/api",
      auth: "https://dev.example.com/auth",
      gateway: "https://api.example.com",
    });
    expect(config.mail.enabled).toBe(false);
    expect(config.login.local.passwordMinLength).toBe(12);
  });

  it("names every missing field of a broken configuration", () => {
    expect(() => parsePortalApiConfig({ portal: { namespace: "x" } }, "/etc/wicked/config.json")).toThrow(
      ConfigError,
    );
    expect(() => parsePortalApiConfig({}, "/etc/wicked/config.json")).toThrow(
      /\/etc\/wicked\/config.json is not a valid portal-api configuration.*urls/,
    );
  });
});

describe("logging", () => {
  it("redacts secrets in logged objects and query strings", () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: "portal-api",
      level: "info",
      destination: new Writable({
        write: (c, _e, done) => {
          lines.push(String(c));
          done();
        },
      }),
    });
    logger.info(
      {
        body: { email: "a@example.com", password: "hunter2-secret" },
        headers: { authorization: "Bearer abc.def" },
        clientSecret: "s3cr3t",
      },
      "Test",
    );
    logger.info({ req: { method: "GET", url: "/verify?token=tok-123&page=2" } }, "Request");
    const out = lines.join("");
    expect(out).not.toMatch(/hunter2-secret|abc\.def|s3cr3t|tok-123/);
    expect(out).toContain("a@example.com");
    expect(out).toContain("page=2");
    expect(redactUrl("/cb?code=xyz&state=s&page=2")).toBe(
      "/cb?code=%5BRedacted%5D&state=%5BRedacted%5D&page=2",
    );
  });
});
