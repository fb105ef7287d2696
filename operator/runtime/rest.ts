/**
 * The one place that talks HTTP to the apiserver (apart from watches): raw requests with the KubeConfig's
 * TLS and credentials. Raw requests, rather than client-node's generated or object APIs, because those
 * re-serialize bodies through their model classes (which drops fields of custom resources and cannot send an
 * apply patch to a subresource).
 */
import * as http from "node:http";
import * as https from "node:https";
import type * as k8s from "@kubernetes/client-node";
import { ApiError, TransportError } from "./errors.ts";

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
export type ResponseObserver = (method: HttpMethod, code: number) => void;

/** Sends requests to the cluster of a KubeConfig's current context. */
export class RestClient {
  constructor(
    private readonly kubeConfig: k8s.KubeConfig,
    private readonly observe: ResponseObserver = () => {},
  ) {}

  /**
   * Sends a request and returns the parsed JSON body. A non-2xx answer throws ApiError (with the Status the
   * apiserver sent); a failure to get an answer at all throws TransportError.
   */
  async request<T>(req: RestRequest): Promise<T> {
    const url = new URL(this.server() + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const options: https.RequestOptions = {
      method: req.method,
      headers: {
        Accept: "application/json",
        "User-Agent": "wicked-operator",
        ...(body
          ? { "Content-Type": req.contentType ?? "application/json", "Content-Length": body.length }
          : {}),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const what = `${req.method} ${req.path}`;
    const { code, text } = await send(url, options, body, req.timeoutMs ?? 30_000).catch((cause: unknown) => {
      this.observe(req.method, 0);
      throw new TransportError(what, { cause });
    });
    this.observe(req.method, code);
    if (code < 200 || code > 299) throw apiError(what, code, text);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  private server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("The kubeconfig has no current cluster");
    return cluster.server.replace(/\/+$/, "");
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
