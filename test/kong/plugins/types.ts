// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The interface between the proxy and the plugins it enforces, modelled on Kong's PDK access phase.
import type { Json, JsonObject } from "../json.ts";

/** Headers as the double keeps them: lower-case names, repeated headers as arrays. */
export type HeaderMap = { [name: string]: string | string[] };

/** The request as the access phase sees and changes it, shared by the plugins of one request. */
export interface ProxyState {
  /** The id Kong puts in `X-Kong-Request-Id` and in error bodies. */
  readonly requestId: string;
  readonly route: JsonObject;
  readonly service: JsonObject;
  readonly method: string;
  readonly clientIp: string;
  /** Request headers as the client sent them, every value a list (Node's `headersDistinct`). */
  readonly clientHeaders: { readonly [name: string]: readonly string[] | undefined };
  /** Query arguments sent upstream; plugins may remove credentials (`hide_credentials`). */
  readonly query: URLSearchParams;
  /** Headers sent upstream; plugins add consumer headers and may remove credentials. */
  readonly upstreamHeaders: HeaderMap;
  /** Headers added to the client response (rate limits). */
  readonly responseHeaders: { [name: string]: string };
  readonly body: Buffer;
  /** The authenticated consumer, set by an authentication plugin. */
  consumer?: JsonObject;
  /** The credential that authenticated the request. */
  credential?: JsonObject;
}

/** A response produced by a plugin instead of proxying (401, 403, 429). */
export interface PluginExit {
  readonly status: number;
  readonly body: Json;
  readonly headers?: { readonly [name: string]: string };
}

/** One plugin's access phase: returns an exit to stop the request, nothing to let it through. */
export interface PluginHandler {
  access(config: JsonObject, state: ProxyState, plugin: JsonObject): PluginExit | undefined;
}

/** Read access to consumers and credentials, as plugins load them from Kong's cache. */
export interface CredentialDirectory {
  consumerById(id: string): JsonObject | undefined;
  /** A consumer by id or username (the `anonymous` setting accepts both). */
  consumerByIdOrUsername(key: string): JsonObject | undefined;
  keyAuthByKey(key: string): JsonObject | undefined;
  jwtSecretByKey(key: string): JsonObject | undefined;
  aclGroups(consumerId: string): string[];
}

/** `kong.response.error(status, message)`: the message and the request id (Kong 3.x error body). */
export function errorExit(
  state: ProxyState,
  status: number,
  message: string,
  headers?: { readonly [name: string]: string },
): PluginExit {
  const body = { message, request_id: state.requestId };
  return headers ? { status, body, headers } : { status, body };
}

/** Sets the upstream consumer headers Kong's authentication plugins set, and records the authentication. */
export function authenticate(
  state: ProxyState,
  consumer: JsonObject,
  credential: JsonObject | undefined,
  credentialIdentifier: string | undefined,
): void {
  const headers = state.upstreamHeaders;
  const set = (name: string, value: Json | undefined): void => {
    if (typeof value === "string") headers[name] = value;
    else delete headers[name];
  };
  set("x-consumer-id", consumer.id);
  set("x-consumer-custom-id", consumer.custom_id);
  set("x-consumer-username", consumer.username);
  set("x-credential-identifier", credentialIdentifier);
  if (credential) delete headers["x-anonymous-consumer"];
  else headers["x-anonymous-consumer"] = "true";
  state.consumer = consumer;
  if (credential) state.credential = credential;
}

/** The consumer id a credential points at. */
export function consumerIdOf(credential: JsonObject): string | undefined {
  const ref = credential.consumer;
  return typeof ref === "object" && ref !== null && !Array.isArray(ref) && typeof ref.id === "string"
    ? ref.id
    : undefined;
}
