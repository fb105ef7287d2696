/**
 * auth-server under load: client_credentials tokens per second and latency at the token endpoint, beside a
 * bare node-oidc-provider 9 (the provider's own http callback, its in-memory adapter, one static client)
 * issuing the same token: a JWT access token for a resource, signed RS256 with an RSA 2048 key as the
 * portal's signing keys are, for a client authenticating with client_secret_basic. Measures only.
 */
import { createServer } from "node:http";
import Provider from "oidc-provider";
import { freePort } from "../hack/controlplane/controlplane.ts";
import { cryptoKeys } from "../operator/controllers/apiportal.controller.ts";
import { bestOfRounds, type LoadResult } from "./load.ts";
import type { BenchPortal } from "./portal-fixture.ts";
import type { BenchResult, Figure } from "./table.ts";

const RESOURCE = "urn:bench:api:payments";

/** The bare provider: client_credentials only, JWT access tokens for one resource, memory adapter. */
async function startBaseline(client: {
  clientId: string;
  clientSecret: string;
}): Promise<{ tokenUrl: string; stop(): Promise<void> }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    // The same key type and algorithm as the portal's signing keys (operator cryptoKeys: RSA 2048, RS256).
    jwks: { keys: [cryptoKeys.signingKey()] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        getResourceServerInfo: async () => ({
          scope: "payments.read",
          audience: RESOURCE,
          accessTokenFormat: "jwt",
          accessTokenTTL: 15 * 60,
          jwt: { sign: { alg: "RS256" } },
        }),
        useGrantedResource: async () => true,
      },
    },
  });
  const server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    tokenUrl: `${issuer}/token`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function tokenRequest(url: string, client: { clientId: string; clientSecret: string }) {
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString("base64");
  return {
    url,
    method: "POST" as const,
    headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  };
}

/** The decoded payload of the access token a token request returns (to check both issue the same kind). */
async function issuedToken(request: ReturnType<typeof tokenRequest>): Promise<Record<string, unknown>> {
  const res = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
  const json = (await res.json()) as { access_token?: string };
  const [header, payload] = (json.access_token ?? "").split(".");
  if (res.status !== 200 || !header || !payload) {
    throw new Error(`The token endpoint ${request.url} answered ${res.status}: ${JSON.stringify(json)}`);
  }
  return {
    ...(JSON.parse(Buffer.from(header, "base64url").toString()) as Record<string, unknown>),
    ...(JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>),
  };
}

function loadFigures(wicked: LoadResult, baseline: LoadResult): Figure[] {
  return [
    {
      measure: "client_credentials tokens/s",
      unit: "tokens/s",
      value: wicked.requestsPerSecond,
      baseline: baseline.requestsPerSecond,
    },
    { measure: "token p50 latency", unit: "ms", value: wicked.p50Ms, baseline: baseline.p50Ms },
    { measure: "token p99 latency", unit: "ms", value: wicked.p99Ms, baseline: baseline.p99Ms },
  ];
}

/** Runs the auth-server benchmark against a started portal. */
export async function runAuthServerBench(
  portal: BenchPortal,
  opts: { durationSeconds: number; rounds: number; connections?: number },
): Promise<BenchResult> {
  const baseline = await startBaseline(portal.machine);
  try {
    const wickedRequest = tokenRequest(`${portal.urls.auth}/token`, portal.machine);
    const baseRequest = tokenRequest(baseline.tokenUrl, portal.machine);
    const wickedToken = await issuedToken(wickedRequest);
    const baseToken = await issuedToken(baseRequest);
    const connections = opts.connections ?? 10;
    const { wicked, base } = await bestOfRounds(
      {
        wicked: { ...wickedRequest, durationSeconds: opts.durationSeconds, connections },
        base: { ...baseRequest, durationSeconds: opts.durationSeconds, connections },
      },
      opts.rounds,
    );
    return {
      bench: "auth-server",
      figures: loadFigures(wicked, base),
      notes: [
        `best of ${opts.rounds} interleaved runs of ${opts.durationSeconds} s (each after 2 s of warm-up), ${connections} connections; both issue ${String(wickedToken.typ)} ${String(wickedToken.alg)} / ${String(baseToken.typ)} ${String(baseToken.alg)} access tokens (wicked / baseline) to a client_secret_basic client.`,
        "wicked: the auth server as built (fastify, helmet, cookies, the provider mounted under /auth, Postgres adapter, clients and their Apis' scopes from the read model cached 10 s); baseline: oidc-provider's callback on node:http, memory adapter, a static client.",
        ...[wicked, base]
          .map((r, i) =>
            r.failures > 0
              ? `${i === 0 ? "wicked" : "baseline"}: ${r.failures} requests failed; its figures are not valid.`
              : "",
          )
          .filter(Boolean),
      ],
    };
  } finally {
    await baseline.stop();
  }
}
