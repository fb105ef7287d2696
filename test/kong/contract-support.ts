// Support for the Kong contract suite: the target (the test double, or a real Kong when KONG_ADMIN_URL and
// KONG_PROXY_URL are set), a tiny HTTP client, an upstream echo server and JWT signing.
import { createHmac, type KeyObject, sign } from "node:crypto";
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";
import { createManualClock, type ManualClock } from "./clock.ts";
import type { Json, JsonObject } from "./json.ts";
import { type KongDouble, startKongDouble } from "./kong-double.ts";

/** An HTTP answer with its body as text and, when it parses, as JSON. */
export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: Json | undefined;
}

/** Options of one HTTP call. */
export interface CallOptions {
  readonly headers?: { readonly [name: string]: string };
  /** A JSON value, sent as application/json. */
  readonly body?: Json;
}

/** Sends one request on a fresh connection (no keep-alive, so refused connections show immediately). */
export function httpCall(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        headers: {
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Json | undefined;
          try {
            json = text === "" ? undefined : (JSON.parse(text) as Json);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** What a test talks to: the Admin API and the proxy, with the clock that governs them. */
export interface ContractTarget {
  readonly adminUrl: string;
  readonly proxyUrl: string;
  /** True against a real Kong: double-only controls are unavailable. */
  readonly real: boolean;
  /** The double, when the target is the double. */
  readonly double?: KongDouble;
  /** The double's manual clock, when the target is the double. */
  readonly clock?: ManualClock;
  /** The target's "now" in epoch milliseconds. */
  nowMs(): number;
  stop(): Promise<void>;
}

/** Starts the double (with a manual clock) unless KONG_ADMIN_URL and KONG_PROXY_URL name a real Kong. */
export async function startTarget(): Promise<ContractTarget> {
  const adminUrl = process.env.KONG_ADMIN_URL;
  const proxyUrl = process.env.KONG_PROXY_URL;
  if (adminUrl && proxyUrl) {
    return { adminUrl, proxyUrl, real: true, nowMs: () => Date.now(), stop: async () => {} };
  }
  // Start one second into a minute, so that minute windows do not roll over while a test runs.
  const clock = createManualClock(Math.floor(Date.now() / 60_000) * 60_000 + 1_000);
  const double = await startKongDouble({ now: clock.now, seed: 42 });
  return {
    adminUrl: double.adminUrl,
    proxyUrl: double.proxyUrl,
    real: false,
    double,
    clock,
    nowMs: clock.now,
    stop: () => double.stop(),
  };
}

/** A running upstream that answers every request with what it received, as JSON. */
export interface EchoServer {
  /** The host Kong should use to reach it (KONG_UPSTREAM_HOST, default 127.0.0.1). */
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** What the echo server saw. */
export interface Echoed {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Starts the echo upstream on a free port. */
export async function startEchoServer(): Promise<EchoServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const echoed: Echoed = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      const payload = JSON.stringify(echoed);
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(payload),
      });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  return {
    host: process.env.KONG_UPSTREAM_HOST ?? "127.0.0.1",
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A local port that nothing listens on (bound then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The echo server's report, parsed from a proxied answer. */
export function echoed(result: HttpResult): Echoed {
  return result.json as unknown as Echoed;
}

/** The `data` of a list answer. */
export function listData(result: HttpResult): JsonObject[] {
  const json = result.json as JsonObject | undefined;
  return Array.isArray(json?.data) ? (json.data as JsonObject[]) : [];
}

/** Signs a compact JWT with RS256 (private key) or HS256 (shared secret). */
export function signJwt(
  alg: "RS256" | "HS256",
  claims: JsonObject,
  key: KeyObject | string,
  header: JsonObject = {},
): string {
  const encode = (value: Json): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode({ alg, typ: "JWT", ...header })}.${encode(claims)}`;
  const signature =
    alg === "HS256"
      ? createHmac("sha256", typeof key === "string" ? key : key.export())
          .update(input)
          .digest()
      : sign("sha256", Buffer.from(input), key);
  return `${input}.${signature.toString("base64url")}`;
}

/** Retries `call` until `done` accepts the result; against the double the first answer is final. */
export async function eventually(
  target: ContractTarget,
  call: () => Promise<HttpResult>,
  done: (r: HttpResult) => boolean,
  timeoutMs = 15_000,
): Promise<HttpResult> {
  const deadline = Date.now() + timeoutMs;
  let result = await call();
  while (target.real && !done(result) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    result = await call();
  }
  return result;
}

/** Deletes, against a real Kong, every entity carrying `tag` (credentials go with their consumers). */
export async function deleteTagged(adminUrl: string, tag: string): Promise<void> {
  for (const collection of ["plugins", "routes", "services", "consumers"]) {
    for (;;) {
      const page = await httpCall(
        adminUrl,
        "GET",
        `/${collection}?tags=${encodeURIComponent(tag)}&size=1000`,
      );
      const data = listData(page);
      if (data.length === 0) break;
      for (const entity of data) await httpCall(adminUrl, "DELETE", `/${collection}/${String(entity.id)}`);
    }
  }
}
