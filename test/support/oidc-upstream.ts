/**
 * A second node-oidc-provider instance that plays the upstream identity provider (think Keycloak or Entra
 * ID) in integration tests. Its login is scripted: the test says who logs in next (`loginAs`), and the
 * interaction pages finish login and consent at once, so a test follows redirects without scraping the
 * IdP's pages. For tests only; nothing in a component imports it.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/** A user at the upstream provider. */
export interface UpstreamUser {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

/** A running upstream provider. */
export interface UpstreamIdp {
  /** Its issuer, `http://127.0.0.1:<port>`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who the next login at the IdP is; unset means the IdP answers access_denied. */
  loginAs(user: UpstreamUser | undefined): void;
  stop(): Promise<void>;
}

/** Starts an upstream IdP with one confidential client for the portal's auth server. */
export async function startUpstreamIdp(opts: {
  redirectUri: string;
  groupsClaim?: string;
}): Promise<UpstreamIdp> {
  let next: UpstreamUser | undefined;
  const users = new Map<string, UpstreamUser>();
  const clientId = `wicked-${randomUUID().slice(0, 8)}`;
  const clientSecret = randomBytes(24).toString("base64url");
  let provider: Provider | undefined;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const groupsClaim = opts.groupsClaim ?? "groups";

  provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [opts.redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), kid: "upstream", alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: [groupsClaim] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx, sub) => {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          email: user.email,
          email_verified: user.email_verified,
          name: user.name,
          [groupsClaim]: user.groups,
        }),
      };
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const current = provider;
    if (!current) throw new Error("upstream IdP not ready");
    if (!req.url?.startsWith("/interaction/")) return current.callback()(req, res);
    const details = await current.interactionDetails(req, res);
    if (details.prompt.name === "login") {
      if (!next) {
        return current.interactionFinished(req, res, {
          error: "access_denied",
          error_description: "no user logs in",
        });
      }
      users.set(next.sub, next);
      return current.interactionFinished(
        req,
        res,
        { login: { accountId: next.sub } },
        { mergeWithLastSubmission: false },
      );
    }
    const accountId = details.session?.accountId ?? "";
    const grant = new current.Grant({ accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return current.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  return {
    issuer,
    clientId,
    clientSecret,
    loginAs(user) {
      next = user;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
