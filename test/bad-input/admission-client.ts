/**
 * Requests to the apiserver that keep what admission said: the status, the Status message of a refusal and
 * every Warning header (the operator runtime's RestClient drops headers). Asynchronous, so the suite can
 * send hundreds of requests without spawning kubectl for each. Tests only.
 */
import * as https from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../api/v1alpha1/index.ts";
import type { Json } from "../support/cluster.ts";

/** What the apiserver answered. */
export interface Answer {
  code: number;
  /** Status.reason of a refusal. */
  reason?: string;
  /** Status.message of a refusal. */
  message?: string;
  /** The texts of the Warning headers, in order. */
  warnings: string[];
  /** The object, for a success. */
  object?: Json;
}

/** Sends wicked requests as the identity of a kubeconfig. */
export interface AdmissionClient {
  create(plural: string, namespace: string, manifest: Json): Promise<Answer>;
  /** A JSON merge patch of an object. */
  patch(plural: string, namespace: string, name: string, patch: Json): Promise<Answer>;
  /** Replaces an object's spec with a JSON patch (a merge patch cannot remove what it does not name). */
  replaceSpec(plural: string, namespace: string, name: string, spec: Json): Promise<Answer>;
  get(plural: string, namespace: string, name: string): Promise<Answer>;
  delete(plural: string, namespace: string, name: string): Promise<Answer>;
}

/**
 * The text of each `Warning: 299 - "text"` header (RFC 7234 warn-text, with `\"` and `\\` escaped). Node
 * joins repeated headers with commas, which warnings contain, so this reads the raw header list. Pure.
 */
export function warningTexts(rawHeaders: readonly string[]): string[] {
  const texts: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? "").toLowerCase() !== "warning") continue;
    const match = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(rawHeaders[i + 1] ?? "");
    texts.push(match ? (match[1] ?? "").replace(/\\(.)/g, "$1") : (rawHeaders[i + 1] ?? ""));
  }
  return texts;
}

/** An AdmissionClient of the kubeconfig file at `path`. */
export function admissionClient(path: string): AdmissionClient {
  const config = new KubeConfig();
  config.loadFromFile(path);
  const server = (config.getCurrentCluster()?.server ?? "").replace(/\/+$/, "");
  const base = (plural: string, namespace: string) =>
    `${server}/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;

  async function send(method: string, url: string, body?: unknown, contentType?: string): Promise<Answer> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const options: https.RequestOptions = {
      method,
      headers: {
        Accept: "application/json",
        ...(data ? { "Content-Type": contentType ?? "application/json", "Content-Length": data.length } : {}),
      },
    };
    await config.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = https.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: Json | undefined;
          try {
            parsed = text ? (JSON.parse(text) as Json) : undefined;
          } catch {
            parsed = { message: text };
          }
          const code = res.statusCode ?? 0;
          const ok = code >= 200 && code < 300;
          resolve({
            code,
            warnings: warningTexts(res.rawHeaders),
            ...(ok ? { object: parsed } : { reason: parsed?.reason, message: parsed?.message ?? text }),
          });
        });
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${url}: no answer within 60 s`)));
      req.on("error", reject);
      req.end(data);
    });
  }

  return {
    create: (plural, namespace, manifest) => send("POST", base(plural, namespace), manifest),
    patch: (plural, namespace, name, patch) =>
      send("PATCH", `${base(plural, namespace)}/${name}`, patch, "application/merge-patch+json"),
    replaceSpec: (plural, namespace, name, spec) =>
      send(
        "PATCH",
        `${base(plural, namespace)}/${name}`,
        [{ op: "replace", path: "/spec", value: spec }],
        "application/json-patch+json",
      ),
    get: (plural, namespace, name) => send("GET", `${base(plural, namespace)}/${name}`),
    delete: (plural, namespace, name) => send("DELETE", `${base(plural, namespace)}/${name}`),
  };
}
