/**
 * Federated login through the upstream OpenID Connect providers of the ApiPortal (openid-client): the
 * authorization code flow with PKCE, state and nonce, then the identity is linked to a portal account
 * (an existing identity; else an account with the same verified email; else a new account) and the IdP's
 * groups are mapped onto portal groups.
 */

import { type Kysely, sql } from "kysely";
import * as oidc from "openid-client";
import { type AccountUser, revokeUserSessions, toAccountUser } from "../accounts/index.ts";
import { appendOutbox } from "../db/outbox.ts";
import type { Database } from "../db/schema.ts";
import type { SecretReader } from "./clients.ts";
import type { UpstreamProvider } from "./config.ts";
import { type GroupMapping, groupsFromClaim, mergeIdpGroups } from "./groups.ts";

/** What the browser carries (in a signed cookie) between leaving for the IdP and coming back. */
export interface FederationState {
  provider: string;
  /** The interaction the login belongs to. */
  uid: string;
  state: string;
  nonce: string;
  verifier: string;
}

/** Who the upstream provider says the user is. */
export interface UpstreamIdentity {
  provider: string;
  subject: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  /** The IdP's groups (from the provider's groups claim). */
  groups: string[];
}

/** A federated login could not complete; the message tells the user what to do. */
export class FederationError extends Error {
  override readonly name = "FederationError";
}

/** Talks to the upstream providers. */
export interface Federation {
  /** The providers users can choose. */
  readonly providers: readonly UpstreamProvider[];
  /** Where to send the browser, and the state to keep until it comes back. */
  start(provider: string, uid: string): Promise<{ url: string; state: FederationState }>;
  /** Exchanges the code of the callback URL for the user's identity; checks state, nonce and PKCE. */
  finish(callbackUrl: URL, state: FederationState): Promise<UpstreamIdentity>;
}

/** The callback URL registered at an upstream provider for the portal. */
export function callbackUrl(issuer: string, provider: string): string {
  return `${issuer.replace(/\/+$/, "")}/federation/${provider}/callback`;
}

/** Federation over openid-client; provider metadata is discovered on first use and kept. */
export function openidFederation(opts: {
  issuer: string;
  providers: readonly UpstreamProvider[];
  secrets: SecretReader;
}): Federation {
  const configs = new Map<string, Promise<oidc.Configuration>>();

  function providerNamed(name: string): UpstreamProvider {
    const provider = opts.providers.find((p) => p.name === name);
    if (!provider) throw new FederationError(`There is no identity provider "${name}" on this portal.`);
    return provider;
  }

  async function discover(provider: UpstreamProvider): Promise<oidc.Configuration> {
    const secret = (await opts.secrets.readSecret(provider.clientSecretRef.name))?.[
      provider.clientSecretRef.key
    ];
    if (!secret) {
      throw new FederationError(
        `Login with ${provider.displayName} is not set up: the Secret "${provider.clientSecretRef.name}" has no key "${provider.clientSecretRef.key}". Tell the portal's operators.`,
      );
    }
    const issuer = new URL(provider.issuer);
    const insecure = issuer.protocol === "http:";
    try {
      return await oidc.discovery(issuer, provider.clientId, secret, oidc.ClientSecretBasic(secret), {
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      });
    } catch (err) {
      throw new FederationError(
        `${provider.displayName} cannot be reached right now (${(err as Error).message}); try again later.`,
      );
    }
  }

  function configFor(provider: UpstreamProvider): Promise<oidc.Configuration> {
    let config = configs.get(provider.name);
    if (!config) {
      config = discover(provider);
      configs.set(provider.name, config);
      // A failed discovery is retried on the next login instead of being remembered.
      config.catch(() => configs.delete(provider.name));
    }
    return config;
  }

  return {
    providers: opts.providers,
    async start(name, uid) {
      const provider = providerNamed(name);
      const config = await configFor(provider);
      const verifier = oidc.randomPKCECodeVerifier();
      const state: FederationState = {
        provider: name,
        uid,
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier,
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: callbackUrl(opts.issuer, name),
        scope: provider.scopes.join(" "),
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: state.state,
        nonce: state.nonce,
      });
      return { url: url.href, state };
    },
    async finish(callback, state) {
      const provider = providerNamed(state.provider);
      const config = await configFor(provider);
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: state.verifier,
          expectedState: state.state,
          expectedNonce: state.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        const description =
          err instanceof oidc.AuthorizationResponseError
            ? (err.error_description ?? err.error)
            : (err as Error).message;
        throw new FederationError(`${provider.displayName} did not log you in (${description}); try again.`);
      }
      let claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
      const sub = typeof claims.sub === "string" ? claims.sub : undefined;
      if (!sub)
        throw new FederationError(`${provider.displayName} sent no subject; tell the portal's operators.`);
      const groupsClaim = provider.groupsClaim;
      if (claims.email === undefined || (groupsClaim && claims[groupsClaim] === undefined)) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, sub).catch(() => undefined);
        if (info) claims = { ...info, ...claims };
      }
      const identity: UpstreamIdentity = {
        provider: provider.name,
        subject: sub,
        emailVerified: claims.email_verified === true,
        groups: groupsClaim ? groupsFromClaim(claims[groupsClaim]) : [],
      };
      if (typeof claims.email === "string") identity.email = claims.email;
      if (typeof claims.name === "string") identity.name = claims.name;
      return identity;
    },
  };
}

/**
 * The portal account of an upstream identity, created or linked: the identity's account if it was linked
 * before; else the live account with the same email, when the IdP verified that email; else a new account
 * (no password). Mapped groups are applied in each case. One transaction, with an outbox event for new users
 * and an audit entry for each new link.
 */
export async function linkFederatedUser(
  db: Kysely<Database>,
  identity: UpstreamIdentity,
  opts: { mappings: readonly GroupMapping[]; now: Date; namespace: string },
): Promise<AccountUser> {
  const { mappings, now } = opts;
  return db.transaction().execute(async (trx) => {
    const linked = await trx
      .selectFrom("identities")
      .innerJoin("users", "users.id", "identities.user_id")
      .selectAll("users")
      .select("identities.id as identity_id")
      .where("identities.provider", "=", identity.provider)
      .where("identities.subject", "=", identity.subject)
      .where("users.deleted_at", "is", null)
      .executeTakeFirst();
    if (linked) {
      await trx
        .updateTable("identities")
        .set({ email: identity.email ?? null, updated_at: now })
        .where("id", "=", linked.identity_id)
        .execute();
      return toAccountUser(await applyGroups(trx, linked.id, linked.groups, identity, mappings, now));
    }
    if (!identity.email) {
      throw new FederationError(
        "The identity provider did not send your email address; the portal needs it. Ask its operators to request the email scope.",
      );
    }
    const email = identity.email;
    const existing = await trx
      .selectFrom("users")
      .selectAll()
      .where(sql<string>`lower(email)`, "=", email.toLowerCase())
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    let userId: string;
    let groups: string[];
    if (existing) {
      if (!identity.emailVerified) {
        throw new FederationError(
          "An account with your email address exists, but the identity provider has not verified that address, so it cannot be linked. Log in with your password instead.",
        );
      }
      userId = existing.id;
      groups = existing.groups;
      if (!existing.email_verified_at) {
        // Nobody proved the address before the IdP did: whoever signed up with it may not be the person
        // the IdP vouches for. Their password, pending links and sessions go with the takeover.
        await trx
          .updateTable("users")
          .set({ email_verified_at: now, password_hash: null, updated_at: now })
          .where("id", "=", userId)
          .execute();
        await trx.deleteFrom("email_verifications").where("user_id", "=", userId).execute();
        await trx.deleteFrom("password_resets").where("user_id", "=", userId).execute();
        await revokeUserSessions(trx, userId);
      }
    } else {
      const displayName = (identity.name?.trim() || email.split("@")[0] || email).slice(0, 200);
      const created = await trx
        .insertInto("users")
        .values({
          email,
          display_name: displayName,
          password_hash: null,
          email_verified_at: identity.emailVerified ? now : null,
          created_at: now,
          updated_at: now,
        })
        .returning(["id", "groups"])
        .executeTakeFirstOrThrow();
      userId = created.id;
      groups = created.groups;
      await appendOutbox(trx, { type: "UserSignedUp", verifyToken: null, userId, email, displayName });
    }
    await trx
      .insertInto("identities")
      .values({
        user_id: userId,
        provider: identity.provider,
        subject: identity.subject,
        email,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await trx
      .insertInto("audit_log")
      .values({
        at: now,
        actor: userId,
        action: existing ? "user.identity.link" : "user.identity.create",
        target_kind: "User",
        target_name: userId,
        namespace: opts.namespace,
        details: JSON.stringify({ provider: identity.provider }),
      })
      .execute();
    return toAccountUser(await applyGroups(trx, userId, groups, identity, mappings, now));
  });
}

async function applyGroups(
  trx: Kysely<Database>,
  userId: string,
  current: string[],
  identity: UpstreamIdentity,
  mappings: readonly GroupMapping[],
  now: Date,
) {
  const groups = mergeIdpGroups(current, identity.groups, mappings);
  return trx
    .updateTable("users")
    .set({ groups, updated_at: now })
    .where("id", "=", userId)
    .returningAll()
    .executeTakeFirstOrThrow();
}
