/**
 * Bearer authentication: the portal API accepts the auth server's JWT access tokens (RFC 9068) issued for
 * its resource indicator (`urls.api`), verified against the auth server's published keys, and turns them
 * into a Principal: the live user behind `sub` and the token's scopes.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from "jose";
import type { Kysely } from "kysely";
import { preparedQuery } from "../../db/prepared.ts";
import type { Database } from "../../db/schema.ts";
import type { PortalApp } from "../context.ts";
import type { Principal } from "../permissions.ts";
import { unauthorized } from "../problems.ts";
import { TokenCache } from "./token-cache.ts";

/** What a verified access token says. */
export interface AccessTokenClaims {
  /** The user id (for user tokens) or the client id (client_credentials). */
  sub: string;
  /** The OAuth client the token was issued to. */
  clientId: string;
  scopes: Set<string>;
}

/** Checks access tokens; throws InvalidTokenError for anything not acceptable. */
export interface TokenVerifier {
  verify(token: string): Promise<AccessTokenClaims>;
}

/** An access token was refused; the message says why, without echoing the token. */
export class InvalidTokenError extends Error {
  override readonly name = "InvalidTokenError";
}

/**
 * Verifies RFC 9068 access tokens: type `at+jwt`, signed by a key of `keys`, issued by `issuer` for
 * `audience`, not expired. With a cache, a token that verified is taken again without checking its signature
 * while the cache keeps it (token-cache.ts).
 */
export function jwtTokenVerifier(opts: {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  cache?: TokenCache<AccessTokenClaims>;
}): TokenVerifier {
  return {
    async verify(token) {
      const cached = opts.cache?.get(token);
      if (cached) return cached;
      try {
        const { payload } = await jwtVerify(token, opts.keys, {
          issuer: opts.issuer,
          audience: opts.audience,
          typ: "at+jwt",
          algorithms: ["RS256", "PS256", "ES256", "EdDSA"],
          requiredClaims: ["sub", "exp", "client_id"],
        });
        const scope = typeof payload.scope === "string" ? payload.scope : "";
        const claims: AccessTokenClaims = {
          sub: String(payload.sub),
          clientId: String(payload.client_id),
          scopes: new Set(scope.split(" ").filter(Boolean)),
        };
        // exp is a required claim, so jose has checked it is a number.
        opts.cache?.set(token, claims, { exp: payload.exp as number, nbf: payload.nbf });
        return claims;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired)
          throw new InvalidTokenError("The access token has expired; refresh it or log in again.");
        if (err instanceof joseErrors.JOSEError) {
          throw new InvalidTokenError(
            "The access token is not valid for the portal API; log in again through the portal.",
          );
        }
        throw err;
      }
    },
  };
}

/**
 * The verifier for a portal: the auth server's JWKS endpoint (fetched and cached by jose), and verified tokens
 * remembered for up to a minute.
 */
export function remoteTokenVerifier(urls: { auth: string; api: string }): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(`${urls.auth.replace(/\/+$/, "")}/jwks`), {
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  return jwtTokenVerifier({ issuer: urls.auth, audience: urls.api, keys, cache: new TokenCache() });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sets `request.principal` on every request that carries a token; a bad token is a 401 at once. */
export function addAuthentication(
  app: PortalApp,
  deps: { db: Kysely<Database>; tokens: TokenVerifier; verification: boolean },
): void {
  const userQuery = preparedQuery<{ id: string }>();
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request) => {
    const header = request.headers.authorization;
    if (header === undefined) return;
    const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
    if (!match?.[1]) {
      throw unauthorized("Send the access token as `Authorization: Bearer <token>`.", "invalid_request");
    }
    let claims: AccessTokenClaims;
    try {
      claims = await deps.tokens.verify(match[1]);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw unauthorized(err.message);
      throw err;
    }
    if (!UUID.test(claims.sub)) {
      throw unauthorized(
        "This access token was issued to an application, not a portal user; the portal API serves users.",
      );
    }
    const query = userQuery("live-user", { id: claims.sub }, (v) =>
      deps.db
        .selectFrom("users")
        .select(["id", "email", "display_name", "groups", "is_admin", "email_verified_at", "password_hash"])
        .where("id", "=", v.id)
        .where("deleted_at", "is", null),
    );
    const [user] = (await deps.db.executeQuery(query)).rows;
    if (!user) throw unauthorized("The account of this access token no longer exists.");
    const principal: Principal = {
      user: {
        id: user.id,
        email: user.email,
        emailTrusted: user.email_verified_at !== null || (!deps.verification && user.password_hash !== null),
        displayName: user.display_name,
        groups: user.groups,
        isAdmin: user.is_admin,
      },
      scopes: claims.scopes,
      clientId: claims.clientId,
    };
    request.principal = principal;
  });
}
