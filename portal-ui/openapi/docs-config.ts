/**
 * What the interactive API docs (Swagger UI, assets/api-docs.js) start from: the Api's OpenAPI document as
 * the portal API rewrote it for the gateway (servers = the gateway, security = the gateway's scheme), and the
 * visitor's own credentials to fill in. Pure: the route fetches, these functions decide.
 */
import type { Application, Credentials, Subscription } from "../api-types.ts";
import type { Json } from "./model.ts";

/** Credentials Swagger UI fills in: a key for the apiKey scheme, or a client id for the oauth2 scheme. */
export type DocsAuth =
  | { type: "apiKey"; scheme: string; key: string; application: string }
  | { type: "oauth2"; scheme: string; clientId: string; scopes: string[]; application: string };

/** The JSON the docs page's script fetches (GET /apis/:name/docs.json). */
export interface DocsConfig {
  /** The rewritten OpenAPI document. */
  spec: Json;
  /** The visitor's credentials, when they have an active subscription they may use. */
  auth?: DocsAuth;
  /** Where the auth server sends the browser back after an authorization-code login from the docs. */
  oauth2RedirectUrl: string;
}

/** A subscription whose credentials could fill in the docs, with its application's name to show. */
export interface CredentialCandidate {
  subscription: string;
  application: string;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The subscriptions whose credentials may fill in the docs, best first: active with issued credentials, of an
 * application the visitor may use (Readers cannot read credentials).
 */
export function credentialCandidates(
  subscriptions: readonly Subscription[],
  applications: readonly Application[],
): CredentialCandidate[] {
  return subscriptions.flatMap((s) => {
    const app = applications.find((a) => a.name === s.application);
    if (s.phase !== "Active" || !s.credentialsReady || !app || app.role === "Reader") return [];
    return [{ subscription: s.name, application: app.displayName }];
  });
}

/** The security schemes of an OpenAPI 3 (components.securitySchemes) or Swagger 2 (securityDefinitions) document. */
function securitySchemes(doc: Json): Json {
  const components = isObject(doc.components) ? doc.components : {};
  if (isObject(components.securitySchemes)) return components.securitySchemes;
  return isObject(doc.securityDefinitions) ? doc.securityDefinitions : {};
}

/** The name of the document's first security scheme of a type, which Swagger UI authorizes by. */
export function securitySchemeName(doc: Json, type: "apiKey" | "oauth2"): string | undefined {
  return Object.entries(securitySchemes(doc)).find(([, s]) => isObject(s) && s.type === type)?.[0];
}

/** Every scope an oauth2 scheme names (over all its flows), so a token from the docs may call everything. */
function schemeScopes(scheme: unknown): string[] {
  if (!isObject(scheme)) return [];
  const flows = isObject(scheme.flows) ? Object.values(scheme.flows) : [scheme];
  const scopes = flows.flatMap((f) => (isObject(f) && isObject(f.scopes) ? Object.keys(f.scopes) : []));
  return [...new Set(scopes)];
}

/** The credentials to fill in, when the document has a scheme they fit; undefined otherwise. */
export function docsAuth(doc: Json, credentials: Credentials, application: string): DocsAuth | undefined {
  if (credentials.type === "key-auth") {
    const scheme = securitySchemeName(doc, "apiKey");
    if (!scheme || !credentials.apiKey) return undefined;
    return { type: "apiKey", scheme, key: credentials.apiKey, application };
  }
  const scheme = securitySchemeName(doc, "oauth2");
  if (!scheme || !credentials.clientId) return undefined;
  return {
    type: "oauth2",
    scheme,
    clientId: credentials.clientId,
    scopes: schemeScopes(securitySchemes(doc)[scheme]),
    application,
  };
}
