/**
 * "Try it" without JavaScript: the operation's form posts to the portal UI, which builds the request from the
 * document (only that operation's path, under the Api's gateway URL; only its declared parameters; the
 * gateway's auth header), sends it to the gateway, and shows the answer. Building the request is pure; the
 * portal UI never sends anything to another origin than the portal's gateway: an Api's base URL comes from
 * its routes, which its team writes, so a route host (an internal name, a cloud metadata address) would
 * otherwise make the portal UI call it. Apis routed by host name cannot be tried here, because fetch does not
 * let the request carry a Host header other than the one of the URL it connects to.
 */
import type { Operation } from "./model.ts";

/** The form as posted. */
export type TryItForm = Record<string, string | undefined>;

/** A request ready to send. */
export interface TryItRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** What came back. */
export interface TryItResult {
  request: { method: string; url: string; headers: Record<string, string> };
  status?: number;
  statusText?: string;
  headers: Array<[string, string]>;
  body: string;
  /** Whether the body was cut at the size limit. */
  truncated: boolean;
  /** Set when no answer came (timeout, refused connection). */
  error?: string;
  durationMs: number;
}

/** The form is not a request the operation takes; the message says which field to fix. */
export class TryItError extends Error {
  override readonly name = "TryItError";
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

/** Where an Api is called: its base URL, which must lie under the portal's gateway URL. */
export interface TryItTarget {
  /** The Api's base URL (ApiDetail.baseUrl). */
  baseUrl: string;
  /** The portal's gateway URL (the portal UI's config.urls.gateway). */
  gatewayUrl: string;
}

/** The request for an operation from the posted form: `p.<name>` fields for parameters, `body` for the body. */
export function buildTryItRequest(
  target: TryItTarget,
  op: Operation,
  form: TryItForm,
  auth: { header: string; value: string } | undefined,
): TryItRequest {
  let path = op.path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = { Accept: "application/json, */*;q=0.5" };
  for (const p of op.parameters) {
    const value = form[`p.${p.in}.${p.name}`]?.trim() ?? "";
    if (!value) {
      if (p.required) throw new TryItError(`Fill in the ${p.in} parameter "${p.name}"; it is required.`);
      continue;
    }
    switch (p.in) {
      case "path":
        path = path.split(`{${p.name}}`).join(encodeURIComponent(value));
        break;
      case "query":
        query.append(p.name, value);
        break;
      case "header":
        if (!HEADER_NAME.test(p.name) || /[\r\n]/.test(value))
          throw new TryItError(`The header "${p.name}" cannot be sent.`);
        headers[p.name] = value;
        break;
      case "cookie":
        break;
    }
  }
  if (/\{[^}]*\}/.test(path))
    throw new TryItError("The document's path has parameters it does not declare; it cannot be tried here.");
  const base = directoryUrl(target.baseUrl);
  const gateway = directoryUrl(target.gatewayUrl);
  if (base.origin !== gateway.origin || !base.pathname.startsWith(gateway.pathname)) {
    throw new TryItError(
      `This API is routed by host name (${base.host}), and the portal sends requests only to its gateway at ${gateway.origin}; try it with your own client instead.`,
    );
  }
  const url = new URL(path.replace(/^\/+/, ""), base);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
    throw new TryItError("The operation's path leaves the API's base URL; it cannot be tried here.");
  }
  url.search = query.toString();
  const request: TryItRequest = { method: op.method, url: url.toString(), headers };
  if (auth) {
    if (!HEADER_NAME.test(auth.header) || /[\r\n]/.test(auth.value))
      throw new TryItError("The credential cannot be sent in a header.");
    request.headers[auth.header] = auth.value;
  }
  const body = form.body ?? "";
  if (op.requestBody && body.trim()) {
    if (op.requestBody.contentType.includes("json")) {
      try {
        JSON.parse(body);
      } catch (err) {
        throw new TryItError(`The request body is not valid JSON: ${(err as Error).message}`);
      }
    }
    request.headers["Content-Type"] = op.requestBody.contentType;
    request.body = body;
  } else if (op.requestBody?.required) {
    throw new TryItError("This operation needs a request body.");
  }
  return request;
}

/** The URL with a trailing slash, so relative paths resolve under it. */
function directoryUrl(url: string): URL {
  return new URL(url.endsWith("/") ? url : `${url}/`);
}

/** A copy of the request's headers with the credential masked, for showing on the page. */
export function maskedHeaders(
  headers: Record<string, string>,
  secretHeader: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] =
      secretHeader && name.toLowerCase() === secretHeader.toLowerCase()
        ? `${value.slice(0, name.toLowerCase() === "authorization" ? 11 : 4)}…`
        : value;
  }
  return out;
}

const MAX_BODY = 64 * 1024;
const SHOWN_HEADERS = [
  "content-type",
  "content-length",
  "date",
  "ratelimit-remaining",
  "ratelimit-limit",
  "retry-after",
  "www-authenticate",
  "x-ratelimit-remaining-minute",
  "x-ratelimit-limit-minute",
];

/** Sends the request (10 s timeout, no redirects followed, at most 64 KiB of the body read). */
export async function sendTryIt(
  request: TryItRequest,
  secretHeader: string | undefined,
  fetchImpl: typeof fetch = fetch,
): Promise<TryItResult> {
  const started = performance.now();
  const shown = {
    method: request.method,
    url: request.url,
    headers: maskedHeaders(request.headers, secretHeader),
  };
  try {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
    const buffer = Buffer.from(await response.arrayBuffer());
    const truncated = buffer.length > MAX_BODY;
    let body = buffer.subarray(0, MAX_BODY).toString("utf8");
    if (!truncated && (response.headers.get("content-type") ?? "").includes("json")) {
      try {
        body = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        // Not JSON after all: shown as it came.
      }
    }
    return {
      request: shown,
      status: response.status,
      statusText: response.statusText,
      headers: [...response.headers.entries()].filter(([name]) => SHOWN_HEADERS.includes(name.toLowerCase())),
      body,
      truncated,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    return {
      request: shown,
      headers: [],
      body: "",
      truncated: false,
      error: `No answer from the gateway (${(err as Error).message}).`,
      durationMs: Math.round(performance.now() - started),
    };
  }
}
