/**
 * The one place that talks HTTP to the apiserver: raw requests and watch streams with the cluster's TLS
 * settings and credentials (kubeconfig.ts). Raw requests, rather than a generated client, because those
 * re-serialize bodies through their model classes (which drops fields of custom resources and cannot send an
 * apply patch to a subresource).
 */
import * as http from "node:http";
import * as https from "node:https";
import type * as k8s from "@kubernetes/client-node";
import { ApiError, TransportError } from "./errors.ts";
import type { WatchHandle } from "./informer.ts";
import type { ClusterAccess, Connection } from "./kubeconfig.ts";

/** HTTP methods the runtime uses. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One apiserver request. */
export interface RestRequest {
  method: HttpMethod;
  /** Absolute API path, e.g. `/api/v1/namespaces/default/configmaps`. */
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | undefined>;
  /** Serialized as JSON (which is also valid YAML for apply patches). */
  body?: unknown;
  /** Content-Type of the body; `application/json` by default. */
  contentType?: string;
  /** Gives up after this long; 30 s by default. */
  timeoutMs?: number;
}

/** Observes every response, e.g. to count requests by method and code like client-go's rest metrics. */
export type ResponseObserver = (method: HttpMethod, code: number, path: string) => void;

/** Sends requests to one apiserver. */
export class RestClient {
  private pooled: { identity: string; agent: https.Agent } | undefined;

  constructor(
    private readonly access: ClusterAccess,
    private readonly observe: ResponseObserver = () => {},
  ) {}

  /**
   * Sends a request and returns the parsed JSON body. A non-2xx answer throws ApiError (with the Status the
   * apiserver sent); a failure to get an answer at all throws TransportError.
   */
  async request<T>(req: RestRequest): Promise<T> {
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers = body
      ? { "Content-Type": req.contentType ?? "application/json", "Content-Length": body.length }
      : {};
    const what = `${req.method} ${req.path}`;
    const url = this.url(req);
    const { code, text } = await this.options(url, req.method, headers, true)
      .then((options) => send(url, options, body, req.timeoutMs ?? 30_000))
      .catch((cause: unknown) => {
        this.observe(req.method, 0, req.path);
        throw new TransportError(what, { cause });
      });
    this.observe(req.method, code, req.path);
    if (code < 200 || code > 299) throw apiError(what, code, text);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Opens a watch and calls onEvent with each event's type and object, in order. onDone is called once when
   * the stream ends: without an error when the apiserver closed it, else with the failure (an ApiError for a
   * refused watch, which carries the HTTP status). After stop(), onDone is not called.
   */
  async watch(
    req: Pick<RestRequest, "path" | "query">,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    const what = `WATCH ${req.path}`;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      onDone(err);
    };
    const url = this.url({ ...req, query: { ...req.query, watch: "true" } });
    // A watch holds its connection for minutes: it gets one of its own, outside the request pool.
    const options = await this.options(url, "GET", {}, false);
    const request = (url.protocol === "http:" ? http.request : https.request)(url, options, (res) => {
      const code = res.statusCode ?? 0;
      this.observe("GET", code, req.path);
      if (code !== 200) {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => finish(apiError(what, code, Buffer.concat(chunks).toString("utf8"))));
        res.on("error", finish);
        return;
      }
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const lines = (pending + chunk).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          if (line.trim() === "" || done) continue;
          try {
            const event = JSON.parse(line) as { type?: string; object?: unknown };
            onEvent(String(event.type), event.object);
          } catch (cause) {
            request.destroy();
            finish(new TransportError(`${what}: an event that is not JSON`, { cause }));
          }
        }
      });
      res.on("end", () => finish());
      res.on("error", finish);
    });
    request.on("error", (cause) => finish(new TransportError(what, { cause })));
    request.end();
    return {
      stop: () => {
        done = true;
        request.destroy();
      },
    };
  }

  private url(req: Pick<RestRequest, "path" | "query">): URL {
    const url = new URL(this.access.server + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    return url;
  }

  private async options(
    url: URL,
    method: HttpMethod,
    headers: http.OutgoingHttpHeaders,
    pooled: boolean,
  ): Promise<https.RequestOptions> {
    const connection = await this.access.connection();
    const { authorization, ...tls } = connection;
    return {
      method,
      headers: {
        Accept: "application/json",
        "User-Agent": "wicked-operator",
        ...(authorization ? { Authorization: authorization } : {}),
        ...headers,
      },
      ...tls,
      agent: pooled && url.protocol === "https:" ? this.agent(connection) : false,
    };
  }

  /** Requests share one keep-alive agent per TLS identity (a rotated client certificate gets a new one). */
  private agent(connection: Connection): https.Agent {
    const { ca, cert, key, servername, rejectUnauthorized } = connection;
    const identity = [ca, cert, key, servername, rejectUnauthorized].map(String).join("|");
    if (this.pooled?.identity !== identity) {
      this.pooled?.agent.destroy();
      this.pooled = {
        identity,
        agent: new https.Agent({
          ...(ca ? { ca } : {}),
          ...(cert && key ? { cert, key } : {}),
          ...(servername ? { servername } : {}),
          rejectUnauthorized,
          keepAlive: true,
          maxSockets: 32,
        }),
      };
    }
    return this.pooled.agent;
  }
}

function send(
  url: URL,
  options: https.RequestOptions,
  body: Buffer | undefined,
  timeoutMs: number,
): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === "http:" ? http.request : https.request;
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

function apiError(what: string, code: number, text: string): ApiError {
  let status: k8s.V1Status | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isStatus(parsed)) status = parsed;
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the HTTP status is all there is.
  }
  return new ApiError(what, code, status?.reason || http.STATUS_CODES[code] || "Unknown", status);
}

/** True when a value is a metav1.Status, the shape of every apiserver error body and watch ERROR event. */
export function isStatus(value: unknown): value is k8s.V1Status {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "Status";
}
