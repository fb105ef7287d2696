import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ApiPortal } from "../api/v1alpha1/index.ts";
import { clientAddressKey, forwardedClientHeaders } from "../component/client-address.ts";
import { createLogger, redactUrl } from "../component/logger.ts";
import { createDatabase } from "../db/connect.ts";
import { componentConfig } from "../operator/apiportal/components.ts";
import { createPortalApi, mountStripper, type PortalApiDeps } from "./app.ts";
import { ConfigError, parsePortalApiConfig } from "./config.ts";
import { offlinePortalApi, testConfig, unreachableKube } from "./test-support.ts";

describe("the portal API under its URL's path", () => {
  it("answers /api/… like /… when urls.api has the path /api, so an ingress routes it by prefix without rewriting", async () => {
    const api = await offlinePortalApi();
    try {
      const atRoot = await api.app.inject("/openapi.json");
      const underPath = await api.app.inject("/api/openapi.json");
      expect(underPath.statusCode).toBe(200);
      expect(underPath.json()).toEqual(atRoot.json());
      expect((await api.app.inject("/api/healthz")).body).toBe("ok\n");
      expect((await api.app.inject("/api/nowhere")).statusCode).toBe(404);
    } finally {
      await api.close();
    }
  });

  it("strips exactly its URL's path", () => {
    const strip = mountStripper("https://developer.example.com/api/");
    expect(strip("/api")).toBe("/");
    expect(strip("/api?x=1")).toBe("/?x=1");
    expect(strip("/api/apis/orders")).toBe("/apis/orders");
    expect(strip("/apis")).toBe("/apis");
    expect(strip("/healthz")).toBe("/healthz");
    expect(mountStripper("https://api.example.com")("/apis")).toBe("/apis");
  });
});

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
      throttle: { perAddress: { max: 2, timeWindowMs: 60_000 } },
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

describe("security #8: throttling the account routes", () => {
  /** The portal API with no database, small limits, and the portal's key for forwarded client addresses. */
  async function throttledApi(throttle: PortalApiDeps["throttle"]) {
    const db = createDatabase("postgres://nobody:nothing@127.0.0.1:9/none", { connectionTimeoutMs: 50 });
    const api = await createPortalApi({
      config: testConfig(),
      db,
      kube: unreachableKube,
      logger: createLogger({ name: "portal-api", level: "silent" }),
      throttle,
      clientAddressKey: key,
    });
    /** Statuses of password reset requests, each `[client address as the ingress reports it, email, headers]`. */
    const resets = async (requests: Array<[string, string, Record<string, string>?]>) => {
      const statuses: number[] = [];
      for (const [address, email, headers] of requests) {
        const res = await api.app.inject({
          method: "POST",
          url: "/accounts/password-reset",
          payload: { email },
          headers: { "x-forwarded-for": address, ...headers },
        });
        if (res.statusCode === 429) {
          expect(res.headers["content-type"]).toMatch(/problem\+json/);
          expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
          expect(res.json().detail).toMatch(
            /^Too many attempts\. Wait \d+ (second|minute)s?, then try again\.$/,
          );
        }
        statuses.push(res.statusCode);
      }
      return statuses;
    };
    return {
      resets,
      async close() {
        await api.stop();
        await db.destroy();
      },
    };
  }
  const key = clientAddressKey("a-session-key-of-some-length");
  const high = { max: 1_000, timeWindowMs: 60_000 };
  const throttled = (statuses: number[]) => statuses.map((s) => s === 429);

  it("security #8: limits requests for one account across client addresses", async () => {
    const api = await throttledApi({
      perAddress: high,
      perAccount: { max: 2, timeWindowMs: 60_000 },
      global: high,
    });
    try {
      const statuses = await api.resets([
        ["203.0.113.1", "victim@example.com"],
        ["203.0.113.2", "Victim@Example.COM"],
        ["203.0.113.3", "victim@example.com"],
        ["203.0.113.3", "someone@example.com"],
      ]);
      expect(throttled(statuses)).toEqual([false, false, true, false]);
    } finally {
      await api.close();
    }
  });

  it("security #8: puts a global ceiling on the account routes", async () => {
    const api = await throttledApi({
      perAddress: high,
      perAccount: high,
      global: { max: 3, timeWindowMs: 60_000 },
    });
    try {
      const statuses = await api.resets(
        [1, 2, 3, 4].map((i) => [`203.0.113.${i}`, `user${i}@example.com`] as [string, string]),
      );
      expect(throttled(statuses)).toEqual([false, false, false, true]);
    } finally {
      await api.close();
    }
  });

  it("security #8: counts a client address the portal UI forwards only when the portal's key signed it", async () => {
    const api = await throttledApi({
      perAddress: { max: 2, timeWindowMs: 60_000 },
      perAccount: high,
      global: high,
    });
    const ui = "10.0.0.5";
    const from = (address: string) => forwardedClientHeaders(key, address);
    try {
      // Two browsers behind the portal UI: each has its own bucket although every call comes from the UI.
      const browsers = await api.resets([
        [ui, "a1@example.com", from("203.0.113.1")],
        [ui, "a2@example.com", from("203.0.113.1")],
        [ui, "a3@example.com", from("203.0.113.1")],
        [ui, "b1@example.com", from("203.0.113.2")],
      ]);
      expect(throttled(browsers)).toEqual([false, false, true, false]);
      // A direct caller inventing addresses, or signing them with another key, is counted by its own.
      const forged = (address: string) => ({
        ...forwardedClientHeaders(clientAddressKey("a-guessed-session-key-0000"), address),
      });
      const spoofing = await api.resets([
        ["198.51.100.7", "c1@example.com", forged("192.0.2.1")],
        ["198.51.100.7", "c2@example.com", { "x-wicked-client-address": "192.0.2.2" }],
        ["198.51.100.7", "c3@example.com", forged("192.0.2.3")],
      ]);
      expect(throttled(spoofing)).toEqual([false, false, true]);
    } finally {
      await api.close();
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
