/**
 * An Api's OpenAPI document as the portal shows it: its servers replaced by the Api's address on the gateway,
 * and its security replaced by how the gateway actually authenticates (the Api's key header, or the portal's
 * auth server with the Api's scopes and flows). Pure; the document comes in parsed.
 */
import YAML, { YAMLParseError } from "yaml";
import type { ApiSpec } from "../api/v1alpha1/index.ts";
import { DEFAULT_KEY_HEADER } from "../api/v1alpha1/index.ts";

/** Where the Api is reached and how clients authenticate there. */
export interface GatewayView {
  /** Public URL of the gateway proxy. */
  gatewayUrl: string;
  /** The auth server's token endpoint. */
  tokenUrl: string;
  /** The auth server's authorization endpoint. */
  authorizationUrl: string;
}

/** A parsed document that is not an OpenAPI 3.x or Swagger 2.0 object. */
export class OpenApiDocumentError extends Error {
  override readonly name = "OpenApiDocumentError";
}

/**
 * Parses an OpenAPI document written as JSON or YAML. A refusal says where the text stops being YAML but
 * never quotes it: the text comes from wherever spec.openApi.url points, and the refusal goes to anyone.
 */
export function parseOpenApi(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    const where =
      err instanceof YAMLParseError && err.linePos
        ? ` (${err.code} at line ${err.linePos[0].line}, column ${err.linePos[0].col})`
        : "";
    throw new OpenApiDocumentError(`The Api's OpenAPI document is neither JSON nor YAML${where}.`);
  }
  if (!isObject(doc) || (typeof doc.openapi !== "string" && typeof doc.swagger !== "string")) {
    throw new OpenApiDocumentError(
      "The Api's OpenAPI document has no `openapi` (3.x) or `swagger` (2.0) field; ask the Api's team to fix spec.openApi.",
    );
  }
  return doc;
}

/** The URL clients call the Api under: the gateway plus the first route's path prefix (or its first host). */
export function apiBaseUrl(spec: Pick<ApiSpec, "routes">, gatewayUrl: string): string {
  const gateway = new URL(gatewayUrl);
  const route = spec.routes[0];
  const host = route?.hosts?.find((h) => !h.startsWith("*."));
  const origin = host
    ? `${gateway.protocol}//${host}${gateway.port ? `:${gateway.port}` : ""}`
    : gateway.origin;
  const base = host ? "" : gateway.pathname.replace(/\/+$/, "");
  const prefix = route?.stripPath === false ? "" : (route?.paths?.[0] ?? "").replace(/\/+$/, "");
  return `${origin}${base}${prefix}`;
}

/** The document rewritten for the gateway. */
export function rewriteOpenApi(
  doc: Record<string, unknown>,
  spec: Pick<ApiSpec, "routes" | "auth">,
  view: GatewayView,
): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(doc);
  const base = apiBaseUrl(spec, view.gatewayUrl);
  const auth = spec.auth?.type ?? "key-auth";
  const scopes = Object.fromEntries((spec.auth?.scopes ?? []).map((s) => [s.name, s.description ?? s.name]));
  const flows = spec.auth?.flows ?? ["client_credentials", "authorization_code"];
  stripOperationSecurity(out);
  if (typeof out.swagger === "string") {
    const url = new URL(base);
    out.host = url.host;
    out.basePath = url.pathname || "/";
    out.schemes = [url.protocol.replace(":", "")];
    const definitions: Record<string, unknown> = {};
    if (auth === "key-auth") {
      definitions.apiKey = { type: "apiKey", in: "header", name: spec.auth?.keyHeader ?? DEFAULT_KEY_HEADER };
    } else if (auth === "oauth2") {
      definitions.oauth2 = { type: "oauth2", flow: "application", tokenUrl: view.tokenUrl, scopes };
    }
    out.securityDefinitions = definitions;
    out.security = Object.keys(definitions).map((name) => ({
      [name]: name === "oauth2" ? Object.keys(scopes) : [],
    }));
    return out;
  }
  out.servers = [{ url: base, description: "The gateway" }];
  const components = isObject(out.components) ? { ...out.components } : {};
  const schemes: Record<string, unknown> = {};
  if (auth === "key-auth") {
    schemes.apiKey = {
      type: "apiKey",
      in: "header",
      name: spec.auth?.keyHeader ?? DEFAULT_KEY_HEADER,
      description: "The API key from your subscription's credentials.",
    };
  } else if (auth === "oauth2") {
    const oauthFlows: Record<string, unknown> = {};
    if (flows.includes("client_credentials"))
      oauthFlows.clientCredentials = { tokenUrl: view.tokenUrl, scopes };
    if (flows.includes("authorization_code")) {
      oauthFlows.authorizationCode = {
        authorizationUrl: view.authorizationUrl,
        tokenUrl: view.tokenUrl,
        scopes,
      };
    }
    schemes.oauth2 = {
      type: "oauth2",
      flows: oauthFlows,
      description: "Tokens from the portal's auth server.",
    };
  }
  components.securitySchemes = schemes;
  out.components = components;
  out.security = Object.keys(schemes).map((name) => ({
    [name]: name === "oauth2" ? Object.keys(scopes) : [],
  }));
  return out;
}

/** Removes per-operation security: it names the document's own schemes, which the gateway replaces. */
function stripOperationSecurity(doc: Record<string, unknown>): void {
  if (!isObject(doc.paths)) return;
  for (const item of Object.values(doc.paths)) {
    if (!isObject(item)) continue;
    for (const operation of Object.values(item)) {
      if (isObject(operation)) delete operation.security;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
