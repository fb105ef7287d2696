/**
 * Helpers for the portal UI's unit tests: a configuration as the operator renders it, an OIDC client that
 * never leaves the process, and a portal API answered by a function, so pages can be driven through
 * `app.inject` without any other component.
 */
import pino from "pino";
import type { PortalUiConfig } from "./config.ts";
import { createPortalUi, type PortalUi } from "./main.ts";
import type { OidcClient } from "./oidc.ts";

/** A portal-ui configuration as the operator renders it for a portal `demo` in namespace `team`. */
export function testUiConfig(overrides: Partial<PortalUiConfig> = {}): PortalUiConfig {
  return {
    portal: { namespace: "team", name: "demo" },
    displayName: "Demo Portal",
    urls: {
      portal: "https://developer.example.com",
      api: "https://developer.example.com/api",
      auth: "https://developer.example.com/auth",
      gateway: "https://api.example.com",
    },
    branding: { title: "Build with Demo", primaryColor: "#0f766e", footer: "Demo Inc." },
    contentPages: [
      { slug: "getting-started", title: "Getting started", markdown: "# Welcome\n\nRead this first." },
    ],
    login: { local: { enabled: true, allowSignup: true }, providers: [] },
    ...overrides,
  };
}

/** An OIDC client for tests: the authorization URL points at a fake auth server; nothing else is called. */
export const fakeOidc: OidcClient = {
  async authorizationUrl({ state, provider }) {
    const url = new URL(`https://auth.test/authorize?state=${state}`);
    if (provider) url.searchParams.set("idp", provider);
    return url;
  },
  async finish() {
    throw new Error("not used in unit tests");
  },
  async refresh() {
    throw new Error("not used in unit tests");
  },
  async revoke() {},
  async logoutUrl() {
    return undefined;
  },
};

/** A fake portal API: answers each request with the handler's [status, body]. */
export type FakeApi = (
  method: string,
  path: string,
  body: unknown,
) => [number, unknown] | Promise<[number, unknown]>;

/** The portal UI over a fake portal API; `calls` lists what it asked. `options` replace the OIDC client or the cookie keys. */
export async function offlinePortalUi(
  api: FakeApi = () => [404, { title: "Not found", status: 404, detail: "No such thing." }],
  config = testUiConfig(),
  options: { oidc?: OidcClient; cookieKeys?: string[] } = {},
): Promise<
  PortalUi & { calls: Array<{ method: string; url: string; path: string; body: unknown; auth?: string }> }
> {
  const calls: Array<{ method: string; url: string; path: string; body: unknown; auth?: string }> = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const text = await request.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    const url = new URL(request.url);
    const path = `${url.pathname.replace(/^\/api/, "")}${url.search}`;
    const auth = request.headers.get("authorization");
    calls.push({ method: request.method, url: request.url, path, body, ...(auth ? { auth } : {}) });
    const [status, json] = await api(request.method, path, body);
    return new Response(status === 204 ? null : JSON.stringify(json), {
      status,
      headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json" },
    });
  };
  const ui = await createPortalUi({
    config,
    secrets: {
      cookieKeys: options.cookieKeys ?? ["a-cookie-key-for-unit-tests-0123456789"],
      clientSecret: "secret",
    },
    logger: pino({ level: "silent" }),
    oidc: options.oidc ?? fakeOidc,
    fetch: fakeFetch,
    health: [],
  });
  return Object.assign(ui, { calls });
}

/** The cookies a response set, as a Cookie header for the next request. */
export function cookieHeader(setCookie: string | string[] | undefined, previous = ""): string {
  const jar = new Map<string, string>();
  for (const part of previous.split(/;\s*/).filter(Boolean)) {
    const [name, ...rest] = part.split("=");
    if (name) jar.set(name, rest.join("="));
  }
  for (const line of [setCookie ?? []].flat()) {
    const [pair] = line.split(";");
    const [name, ...rest] = (pair ?? "").split("=");
    if (!name) continue;
    const value = rest.join("=");
    if (value === "" || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar.entries()].map(([k, v]) => `${k}=${v}`).join("; ");
}

/** The CSRF token of a rendered page's first form. */
export function csrfTokenOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error("the page has no CSRF field");
  return match[1];
}
