/**
 * The admission.k8s.io/v1 wire format and the verdict every wicked webhook returns: allowed or denied with
 * a message that says what to do, plus warnings for requests that are allowed but look wrong. Pure.
 */
import { deepEqual } from "../operator/desired.ts";

/** What the apiserver sends: one AdmissionReview with a request. */
export interface AdmissionReview {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** The operation being admitted. */
export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

/** The part of an AdmissionRequest the webhooks read. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: { username?: string; groups?: string[] };
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

/** One RFC 6902 operation of a mutating webhook's patch. */
export interface JsonPatchOperation {
  op: "add" | "replace" | "remove";
  path: string;
  value?: unknown;
}

/** The response inside the AdmissionReview the webhook answers with. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  patchType?: "JSONPatch";
  /** Base64 of the JSON patch. */
  patch?: string;
}

/**
 * What a validation decided: `denials` refuse the request (each one a sentence saying what is wrong and how
 * to fix it); `warnings` are shown to the client (kubectl prints them) but let the request through.
 */
export interface Verdict {
  denials: string[];
  warnings: string[];
}

/** The apiserver shows at most this many warnings and truncates long ones; keep each under its limit. */
const WARNING_LIMIT = 256;
/** HTTP status of a denial: the object is valid on its own but not together with what exists. */
const DENIAL_CODE = 422;

/** A warning the apiserver passes on unchanged: single line, no longer than it accepts. */
export function cleanWarning(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > WARNING_LIMIT ? `${line.slice(0, WARNING_LIMIT - 1)}…` : line;
}

/** The AdmissionReview answering `request` with `verdict` and, for a mutating webhook, a patch. */
export function admissionResponse(
  request: Pick<AdmissionRequest, "uid">,
  verdict: Verdict,
  patch: JsonPatchOperation[] = [],
): AdmissionReview {
  const response: AdmissionResponse = { uid: request.uid, allowed: verdict.denials.length === 0 };
  if (verdict.denials.length > 0) {
    response.status = { code: DENIAL_CODE, reason: "Invalid", message: verdict.denials.join("; ") };
  }
  // Warnings about a refused object would only distract from the reason it was refused.
  if (response.allowed && verdict.warnings.length > 0) response.warnings = verdict.warnings.map(cleanWarning);
  if (response.allowed && patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = Buffer.from(JSON.stringify(patch)).toString("base64");
  }
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}

/** The object of an AdmissionRequest typed as a wicked resource, or undefined when it is not one. */
export function objectOf<T extends { metadata: object; spec: object }>(raw: unknown): T | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const obj = raw as { metadata?: unknown; spec?: unknown };
  return typeof obj.metadata === "object" && obj.metadata !== null && typeof obj.spec === "object"
    ? (raw as T)
    : undefined;
}

/**
 * True for an update that leaves the spec alone (finalizers, labels, annotations): cross-object rules are
 * about the spec, and refusing such an update could block a finalizer and with it a deletion.
 */
export function specUnchanged(
  operation: Operation,
  object: { spec: unknown },
  old?: { spec: unknown },
): boolean {
  return operation === "UPDATE" && old !== undefined && deepEqual(object.spec, old.spec);
}

/** Escapes a JSON pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function pointerSegment(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}
