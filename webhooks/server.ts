/**
 * The admission webhook server: HTTPS (the apiserver calls webhooks only over TLS), one path per webhook,
 * each reading what exists in the namespace and running the pure rules of its kind.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Api, ApiPortal, Plan, Subscription } from "../api/v1alpha1/index.ts";
import {
  type AdmissionRequest,
  type AdmissionReview,
  admissionResponse,
  type JsonPatchOperation,
  objectOf,
  type Verdict,
} from "./admission.ts";
import { apiFacts, validateApi } from "./api.webhook.ts";
import { apiPortalFacts, validateApiPortal } from "./apiportal.webhook.ts";
import { planFacts, validatePlan } from "./plan.webhook.ts";
import { defaultSubscription, subscriptionFacts, validateSubscription } from "./subscription.webhook.ts";
import { liveView, type NamespaceView, type ReadClient } from "./view.ts";

/** The URL path of each webhook; the chart's webhook configurations use the same paths. */
export const WEBHOOK_PATHS = {
  validateSubscription: "/validate/subscriptions",
  defaultSubscription: "/mutate/subscriptions",
  validateApi: "/validate/apis",
  validatePlan: "/validate/plans",
  validateApiPortal: "/validate/apiportals",
} as const;

/** A serving certificate and its key, PEM encoded. */
export interface ServingCertificate {
  cert: string | Buffer;
  key: string | Buffer;
}

/** What the webhook server needs. */
export interface WebhookServerDeps {
  /** Reads what exists (the operator runtime's Client). */
  client: ReadClient;
  certificate: ServingCertificate;
  logger: Logger;
  /** 9443 by default; 0 picks a free port. */
  port?: number;
  /** Address to bind; all interfaces by default. */
  host?: string;
  /** Clock of the rules that depend on time (an Api's sunset); the wall clock by default. */
  now?: () => Date;
}

/** A webhook server; nothing listens until listen(). */
export interface WebhookServer {
  /** Starts listening; resolves with the base URL, e.g. `https://127.0.0.1:9443`. */
  listen(): Promise<string>;
  /** Serves a new certificate to new connections (cert-manager or the chart renewed it). */
  setCertificate(certificate: ServingCertificate): void;
  /** Stops accepting requests and closes the connections; in-flight requests finish first. */
  close(): Promise<void>;
}

/** A request body larger than this is refused: AdmissionReviews carry at most two objects of ~1.5 MB. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

type Outcome = { verdict: Verdict; patch?: JsonPatchOperation[] };
type Handler = (req: AdmissionRequest, view: NamespaceView, now: Date) => Promise<Outcome>;

/** A request that cannot be an AdmissionReview: answered with 400 and this message. */
class BadRequestError extends Error {
  override readonly name = "BadRequestError";
}

function typed<T extends { metadata: object; spec: object }>(raw: unknown, what: string): T {
  const obj = objectOf<T>(raw);
  if (!obj) throw new BadRequestError(`the AdmissionReview carries no ${what} object with metadata and spec`);
  return obj;
}

const old = <T extends { metadata: object; spec: object }>(raw: unknown) => objectOf<T>(raw);

const HANDLERS: Record<string, Handler> = {
  [WEBHOOK_PATHS.validateSubscription]: async (req, view, now) => {
    const sub = typed<Subscription>(req.object, "Subscription");
    const facts = await subscriptionFacts(view, sub);
    return { verdict: validateSubscription(req.operation, sub, old(req.oldObject), facts, now) };
  },
  [WEBHOOK_PATHS.defaultSubscription]: async (req) => ({
    verdict: { denials: [], warnings: [] },
    patch: defaultSubscription(req.operation, typed<Subscription>(req.object, "Subscription")),
  }),
  [WEBHOOK_PATHS.validateApi]: async (req, view) => {
    const api = typed<Api>(req.object, "Api");
    return { verdict: validateApi(req.operation, api, old(req.oldObject), await apiFacts(view, api)) };
  },
  [WEBHOOK_PATHS.validatePlan]: async (req, view) => {
    const plan = typed<Plan>(req.object, "Plan");
    return { verdict: validatePlan(req.operation, plan, old(req.oldObject), await planFacts(view)) };
  },
  [WEBHOOK_PATHS.validateApiPortal]: async (req, view) => {
    const portal = typed<ApiPortal>(req.object, "ApiPortal");
    return { verdict: validateApiPortal(req.operation, portal, await apiPortalFacts(view)) };
  },
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequestError(`the request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": typeof body === "string" ? "text/plain" : "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function parseReview(text: string): AdmissionRequest {
  let review: AdmissionReview;
  try {
    review = JSON.parse(text) as AdmissionReview;
  } catch {
    throw new BadRequestError("the request body is not JSON");
  }
  const request = review?.request;
  if (review?.kind !== "AdmissionReview" || !request?.uid || !request.operation)
    throw new BadRequestError("expected an admission.k8s.io/v1 AdmissionReview with a request");
  return request;
}

/** Creates the webhook server. */
export function createWebhookServer(deps: WebhookServerDeps): WebhookServer {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;

  async function admit(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const handler = HANDLERS[path];
    if (!handler) return send(res, 404, `no webhook at ${path}\n`);
    const request = parseReview(await readBody(req));
    const view = liveView(deps.client, request.namespace ?? "");
    const { verdict, patch } = await handler(request, view, now());
    const reqLog = log.child({
      webhook: path,
      operation: request.operation,
      kind: request.kind.kind,
      namespace: request.namespace,
      name: request.name,
      user: request.userInfo.username,
    });
    if (verdict.denials.length > 0) reqLog.info({ denials: verdict.denials }, `Denied ${request.kind.kind}`);
    else reqLog.debug({ warnings: verdict.warnings, patch }, `Admitted ${request.kind.kind}`);
    send(res, 200, admissionResponse(request, verdict, patch));
  }

  const server: Server = createServer(
    { cert: deps.certificate.cert, key: deps.certificate.key },
    (req, res) => {
      const path = new URL(req.url ?? "/", "https://webhooks").pathname;
      if (req.method === "GET" && (path === "/healthz" || path === "/readyz")) return send(res, 200, "ok\n");
      if (req.method !== "POST") return send(res, 405, "admission webhooks take POST\n");
      admit(path, req, res).catch((err: unknown) => {
        if (err instanceof BadRequestError) return send(res, 400, `${err.message}\n`);
        // Reading what exists failed (the apiserver is unreachable or refused): the apiserver then applies the
        // webhook's failure policy, which is the documented behaviour for each webhook.
        log.error({ err, webhook: path }, "Failed to admit a request; the failure policy applies");
        send(res, 500, `cannot decide: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    },
  );

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(deps.port ?? 9443, deps.host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
          log.info({ address: address.address, port: address.port }, "Started webhook server");
          resolve(`https://${host}:${address.port}`);
        });
      });
    },
    setCertificate(certificate) {
      server.setSecureContext({ cert: certificate.cert, key: certificate.key });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        server.close(() => {
          clearTimeout(force);
          log.info("Stopped webhook server");
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
