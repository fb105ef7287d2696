/**
 * The portal UI as an OpenID Connect client of the portal's auth server (openid-client): the authorization
 * code flow with PKCE, state and nonce, token refresh, refresh token revocation (RFC 7009) and RP-initiated
 * logout. The auth server's metadata is discovered on first use (so the UI starts, and serves its public
 * pages, while the auth server is still starting) and kept; a failed discovery is retried on the next login.
 */
import * as client from "openid-client";

/** Scopes the portal UI asks for: identity, and the portal API's scopes (auth-server/resources.ts). */
export const PORTAL_UI_SCOPES = [
  "openid",
  "email",
  "profile",
  "offline_access",
  "portal.read",
  "portal.write",
  "portal.approve",
  "portal.admin",
];

/** Tokens of a completed login or refresh. */
export interface TokenSet {
  accessToken: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  refreshToken?: string;
  /** Claims of the ID token, when one came back. */
  claims?: { sub: string; email?: string; name?: string };
}

/** The login could not be completed; the message tells the user what to do. */
export class LoginError extends Error {
  override readonly name = "LoginError";
}

/** What the pages need from the auth server. */
export interface OidcClient {
  /** The URL to send the browser to for logging in (with an upstream provider, when named). */
  authorizationUrl(opts: {
    state: string;
    nonce: string;
    codeChallenge: string;
    provider?: string;
    signup?: boolean;
  }): Promise<URL>;
  /** Exchanges the callback's code; checks state, nonce and PKCE. */
  finish(callbackUrl: URL, checks: { state: string; nonce: string; verifier: string }): Promise<TokenSet>;
  /** A new access token for a refresh token. */
  refresh(refreshToken: string): Promise<TokenSet>;
  /**
   * Revokes a refresh token at the auth server (RFC 7009), which revokes its grant with every token of it;
   * throws LoginError when the auth server cannot be reached or refuses.
   */
  revoke(refreshToken: string): Promise<void>;
  /** Where to send the browser to log out at the auth server too; undefined when it offers no logout. */
  logoutUrl(): Promise<URL | undefined>;
}

/** Options of the client. */
export interface OidcClientOptions {
  /** The auth server's issuer URL (config urls.auth). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** `<urls.portal>/login/callback`. */
  redirectUri: string;
  /** Where the auth server sends the browser after logout (config urls.portal). */
  postLogoutRedirectUri: string;
  /** The portal API's resource indicator (config urls.api). */
  resource: string;
  /** "Now" in seconds since the epoch. */
  now?: () => number;
}

/** The client over openid-client. */
export function openidClient(opts: OidcClientOptions): OidcClient {
  let discovered: Promise<client.Configuration> | undefined;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));

  function configuration(): Promise<client.Configuration> {
    const issuer = new URL(opts.issuer);
    discovered ??= client
      .discovery(issuer, opts.clientId, undefined, client.ClientSecretBasic(opts.clientSecret), {
        execute: issuer.protocol === "http:" ? [client.allowInsecureRequests] : [],
        timeout: 10,
      })
      .catch((err: unknown) => {
        discovered = undefined;
        throw new LoginError(
          `The portal's login service at ${opts.issuer} cannot be reached (${(err as Error).message}); try again in a moment.`,
        );
      });
    return discovered;
  }

  function tokenSet(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): TokenSet {
    const claims = tokens.claims();
    const set: TokenSet = {
      accessToken: tokens.access_token,
      expiresAt: now() + (tokens.expiresIn() ?? 300),
    };
    if (tokens.refresh_token) set.refreshToken = tokens.refresh_token;
    if (claims) {
      set.claims = {
        sub: claims.sub,
        ...(typeof claims.email === "string" ? { email: claims.email } : {}),
        ...(typeof claims.name === "string" ? { name: claims.name } : {}),
      };
    }
    return set;
  }

  return {
    async authorizationUrl({ state, nonce, codeChallenge, provider, signup }) {
      const config = await configuration();
      const params: Record<string, string> = {
        redirect_uri: opts.redirectUri,
        scope: PORTAL_UI_SCOPES.join(" "),
        response_type: "code",
        code_challenge: codeChallenge,
        code_challenge_method: "S256",
        state,
        nonce,
        resource: opts.resource,
        // offline_access (a refresh token) is only granted with prompt=consent (OIDC Core 11); the auth server
        // does not ask its own first-party clients' users for consent.
        prompt: "consent",
      };
      if (provider) params.idp = provider;
      if (signup) params.screen = "signup";
      return client.buildAuthorizationUrl(config, params);
    },
    async finish(callbackUrl, checks) {
      const config = await configuration();
      const error = callbackUrl.searchParams.get("error");
      if (error) {
        const description = callbackUrl.searchParams.get("error_description");
        throw new LoginError(
          error === "access_denied"
            ? "The login was cancelled."
            : `The login did not complete (${description ?? error}); try again.`,
        );
      }
      try {
        const tokens = await client.authorizationCodeGrant(
          config,
          callbackUrl,
          { pkceCodeVerifier: checks.verifier, expectedState: checks.state, expectedNonce: checks.nonce },
          { resource: opts.resource },
        );
        return tokenSet(tokens);
      } catch (err) {
        throw new LoginError(`The login did not complete (${(err as Error).message}); try again.`, {
          cause: err,
        });
      }
    },
    async refresh(refreshToken) {
      const config = await configuration();
      try {
        return tokenSet(await client.refreshTokenGrant(config, refreshToken, { resource: opts.resource }));
      } catch (err) {
        throw new LoginError("Your session has ended; log in again.", { cause: err });
      }
    },
    async revoke(refreshToken) {
      const config = await configuration();
      try {
        await client.tokenRevocation(config, refreshToken, { token_type_hint: "refresh_token" });
      } catch (err) {
        throw new LoginError(`The refresh token could not be revoked (${(err as Error).message}).`, {
          cause: err,
        });
      }
    },
    async logoutUrl() {
      const config = await configuration().catch(() => undefined);
      if (!config?.serverMetadata().end_session_endpoint) return undefined;
      return client.buildEndSessionUrl(config, {
        client_id: opts.clientId,
        post_logout_redirect_uri: opts.postLogoutRedirectUri,
      });
    },
  };
}

/** A fresh PKCE verifier with its S256 challenge, a state and a nonce. */
export async function newLoginChecks(): Promise<{
  verifier: string;
  challenge: string;
  state: string;
  nonce: string;
}> {
  const verifier = client.randomPKCECodeVerifier();
  return {
    verifier,
    challenge: await client.calculatePKCECodeChallenge(verifier),
    state: client.randomState(),
    nonce: client.randomNonce(),
  };
}
