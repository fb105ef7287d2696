/**
 * Resource indicators (RFC 8707): what audiences the auth server issues access tokens for, and to whom.
 * - The portal API (`urls.api`), with the portal API scopes, for the portal's own clients.
 * - Each Api, as `urn:wicked:api:<name>`, with the Api's scopes, for the clients of its OAuth2 subscriptions
 *   only; a subscription client that names no resource gets its Api's.
 * Access tokens for every resource are RFC 9068 JWTs signed with the portal's key, so the gateway (Kong's
 * jwt plugin, keyed by `client_id`) and the portal API verify them offline.
 */
import type { ResourceServerInfo } from "oidc-provider";
import { PORTAL_API_SCOPES } from "../accounts/index.ts";

/** The prefix of an Api's resource indicator. */
export const API_RESOURCE_PREFIX = "urn:wicked:api:";

/** The resource indicator of an Api. */
export function apiResource(api: string): string {
  return `${API_RESOURCE_PREFIX}${api}`;
}

/** The Api a resource indicator names, or undefined. */
export function apiOfResource(indicator: string): string | undefined {
  if (!indicator.startsWith(API_RESOURCE_PREFIX)) return undefined;
  const name = indicator.slice(API_RESOURCE_PREFIX.length);
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) ? name : undefined;
}

/**
 * Who asks for a token: a first-party client, a subscription client of an (OAuth2) Api with that Api's
 * scopes, or neither.
 */
export type ClientKind =
  | { kind: "first-party" }
  | { kind: "subscription"; api: string; scopes: readonly string[] }
  | { kind: "unknown" };

/** Why a resource was refused; the message goes to the client as `invalid_target`. */
export class ResourceRefused extends Error {
  override readonly name = "ResourceRefused";
}

/** Lifetime of access tokens, in seconds. */
export const ACCESS_TOKEN_TTL = 15 * 60;

function jwtServer(scopes: readonly string[], audience: string): ResourceServerInfo {
  return {
    scope: scopes.join(" "),
    audience,
    accessTokenFormat: "jwt",
    accessTokenTTL: ACCESS_TOKEN_TTL,
    jwt: { sign: { alg: "RS256" } },
  };
}

/** The resource server for an indicator and a client, or ResourceRefused. */
export function resourceServerFor(
  indicator: string,
  client: ClientKind,
  portalApi: string,
): ResourceServerInfo {
  if (indicator === portalApi) {
    if (client.kind !== "first-party") {
      throw new ResourceRefused("only the portal's own clients get tokens for the portal API");
    }
    return jwtServer(PORTAL_API_SCOPES, portalApi);
  }
  const api = apiOfResource(indicator);
  if (!api) throw new ResourceRefused(`unknown resource; Apis are named ${API_RESOURCE_PREFIX}<Api name>`);
  if (client.kind !== "subscription" || client.api !== api) {
    throw new ResourceRefused(`this client has no subscription to the Api "${api}"`);
  }
  return jwtServer(client.scopes, indicator);
}

/** The resource a client gets when it names none. */
export function defaultResourceFor(client: ClientKind, portalApi: string): string | undefined {
  if (client.kind === "first-party") return portalApi;
  if (client.kind === "subscription") return apiResource(client.api);
  return undefined;
}
