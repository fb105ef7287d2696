/**
 * The node-oidc-provider instance of a portal, configured in one object: Postgres storage, clients from the
 * read model plus the portal UI, accounts from the users table, JWT access tokens per resource, PKCE for
 * public clients, refresh token rotation, and no implicit or password grant.
 */
import { type Kysely, sql } from "kysely";
import Provider, {
  type Account,
  type Adapter,
  type ClientMetadata,
  type Configuration,
  errors,
  type Interaction,
  type KoaContextWithOIDC,
} from "oidc-provider";
import type { Logger } from "pino";
import type { Database } from "../db/schema.ts";
import { PostgresAdapter } from "./adapter.ts";
import type { ClientDirectory } from "./clients.ts";
import type { AuthServerConfig } from "./config.ts";
import { type AuthKeys, firstPartyClientSecret } from "./keys.ts";
import { type ClientKind, defaultResourceFor, ResourceRefused, resourceServerFor } from "./resources.ts";
import { errorPage, type PageFrame } from "./views.ts";

/** Client id of the portal UI, the auth server's first-party client. */
export const PORTAL_UI_CLIENT_ID = "portal-ui";

/** The portal UI's redirect URI: `<urls.portal>/login/callback`. */
export function portalUiRedirectUri(config: AuthServerConfig): string {
  return `${config.urls.portal.replace(/\/+$/, "")}/login/callback`;
}

/** The path the provider is served under: the issuer URL's path (`/auth` for `https://portal/auth`). */
export function mountPath(issuer: string): string {
  return new URL(issuer).pathname.replace(/\/+$/, "");
}

/** The static (first-party) clients. */
export function firstPartyClients(config: AuthServerConfig, keys: AuthKeys): ClientMetadata[] {
  return [
    {
      client_id: PORTAL_UI_CLIENT_ID,
      client_secret: firstPartyClientSecret(keys.sessionKey, PORTAL_UI_CLIENT_ID),
      client_name: config.displayName,
      redirect_uris: [portalUiRedirectUri(config)],
      post_logout_redirect_uris: [config.urls.portal],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ];
}

/** Lifetimes, in seconds. */
const TTL = {
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  Session: 12 * 60 * 60,
  Grant: 14 * 24 * 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  AccessToken: 15 * 60,
  ClientCredentials: 15 * 60,
};

/** What the provider needs. */
export interface ProviderDeps {
  config: AuthServerConfig;
  keys: AuthKeys;
  db: Kysely<Database>;
  clients: ClientDirectory;
  logger: Logger;
  /** Shown on error pages. */
  frame: PageFrame;
}

/** Builds the provider. */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, db, clients } = deps;
  const issuer = config.urls.auth.replace(/\/+$/, "");
  const mount = mountPath(issuer);
  const secure = issuer.startsWith("https:");
  const staticClients = firstPartyClients(config, deps.keys);
  const firstParty = new Set(staticClients.map((c) => c.client_id));

  // The scopes come with the client from the directory (cached with it), so a token costs no query.
  async function kindOf(clientId: string | undefined): Promise<ClientKind> {
    if (!clientId) return { kind: "unknown" };
    if (firstParty.has(clientId)) return { kind: "first-party" };
    const found = await clients.find(clientId);
    return found ? { kind: "subscription", api: found.api, scopes: found.scopes } : { kind: "unknown" };
  }

  const adapter = (model: string): Adapter => {
    if (model !== "Client") return new PostgresAdapter(db, model);
    return {
      async find(id: string) {
        return (await clients.find(id))?.metadata;
      },
      upsert: refuseWrite,
      findByUid: async () => undefined,
      findByUserCode: async () => undefined,
      consume: refuseWrite,
      destroy: refuseWrite,
      revokeByGrantId: refuseWrite,
    };
  };

  const configuration: Configuration = {
    adapter,
    clients: staticClients,
    clientDefaults: {
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      id_token_signed_response_alg: "RS256",
    },
    // Only the authorization code flow: no implicit or hybrid response types (OAuth 2.0 Security BCP).
    responseTypes: ["code"],
    scopes: ["openid", "offline_access"],
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name"],
      groups: ["groups"],
    },
    cookies: {
      keys: deps.keys.cookieKeys,
      long: { httpOnly: true, sameSite: "lax", secure, signed: true },
      short: { httpOnly: true, sameSite: "lax", secure, signed: true },
    },
    jwks: deps.keys.jwks,
    findAccount: async (_ctx, sub) => findAccount(db, sub),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client revokes only its own tokens.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      introspection: { enabled: false },
      userinfo: { enabled: true },
      dPoP: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: { body: unknown }, form: string) => {
          ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Log out</title></head><body>${form}<p>Log out of ${deps.frame.portalName}?</p><button type="submit" form="op.logoutForm" name="logout" value="yes">Log out</button></body></html>`;
        },
        postLogoutSuccessSource: async (ctx: { body: unknown }) => {
          ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Logged out</title></head><body><p>You are logged out.</p></body></html>`;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx: KoaContextWithOIDC, _client: unknown, oneOf?: string | string[]) =>
          oneOf ?? defaultResourceFor(await kindOf(ctx.oidc.client?.clientId), config.urls.api),
        getResourceServerInfo: async (ctx: KoaContextWithOIDC, indicator: string) => {
          try {
            return resourceServerFor(indicator, await kindOf(ctx.oidc.client?.clientId), config.urls.api);
          } catch (err) {
            if (err instanceof ResourceRefused) throw new errors.InvalidTarget(err.message);
            throw err;
          }
        },
        useGrantedResource: async () => true,
      },
    },
    // PKCE is required for public clients (they cannot authenticate) and for the portal's own clients.
    pkce: {
      required: (_ctx, client) => client.clientAuthMethod === "none" || firstParty.has(client.clientId),
    },
    // Every refresh token is used once: each refresh returns a new one, and reusing an old one revokes the
    // grant (OAuth 2.0 Security BCP, refresh token rotation).
    rotateRefreshToken: true,
    ttl: TTL,
    interactions: { url: (_ctx, interaction: Interaction) => `${mount}/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = errorPage({ ...deps.frame, title: "The request could not be completed" }, out);
    },
    clientBasedCORS: (_ctx, origin, client) =>
      client.clientAuthMethod === "none" &&
      client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin),
    enabledJWA: {
      idTokenSigningAlgValues: ["RS256", "PS256", "ES256"],
      userinfoSigningAlgValues: ["RS256", "PS256", "ES256"],
    },
  };

  const provider = new Provider(issuer, configuration);
  // Behind the portal's ingress: trust X-Forwarded-Proto/Host for URLs and secure cookies.
  provider.proxy = true;
  provider.on("server_error", (_ctx: unknown, err: unknown) => {
    deps.logger.error({ err }, "OIDC provider failed to answer a request");
  });
  return provider;
}

async function refuseWrite(): Promise<never> {
  throw new Error("Clients come from the portal's read model and cannot be written through the provider.");
}

/** The account behind a token's subject: a live portal user. */
export async function findAccount(db: Kysely<Database>, sub: string): Promise<Account | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(sub)) return undefined;
  const user = await db
    .selectFrom("users")
    .select(["id", "email", "display_name", "email_verified_at", "groups"])
    .where("id", "=", sub)
    .where(sql<boolean>`deleted_at IS NULL`)
    .executeTakeFirst();
  if (!user) return undefined;
  return {
    accountId: user.id,
    claims: () => ({
      sub: user.id,
      email: user.email,
      email_verified: user.email_verified_at !== null,
      name: user.display_name,
      groups: user.groups,
    }),
  };
}
