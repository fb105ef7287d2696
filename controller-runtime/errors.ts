/**
 * Typed errors of the apiserver client, one class per failure point, so callers branch on a type or an HTTP
 * status instead of parsing messages.
 */
import type * as k8s from "@kubernetes/client-node";

/**
 * The apiserver answered with a non-2xx status. `code` is the HTTP status; `reason` is the machine-readable
 * `Status.reason` (`NotFound`, `Conflict`, `AlreadyExists`, `Expired`, `Gone`, `Invalid`, …) when the body
 * carried a Status object.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    /** HTTP method and path of the failed request, e.g. `PATCH /api/v1/namespaces/x/configmaps/y`. */
    readonly request: string,
    readonly code: number,
    readonly reason: string,
    readonly status?: k8s.V1Status,
  ) {
    super(`${request} failed with ${code} ${reason}${status?.message ? `: ${status.message}` : ""}`);
  }
}

/** The request never got an HTTP answer (connection refused, TLS failure, timeout). Worth retrying. */
export class TransportError extends Error {
  override readonly name = "TransportError";
  constructor(request: string, options: { cause: unknown }) {
    super(
      `${request} failed: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`,
      options,
    );
  }
}

/** The apiserver does not serve a kind (CRD not installed, wrong version); discovery could not map it. */
export class UnknownKindError extends Error {
  override readonly name = "UnknownKindError";
  constructor(apiVersion: string, kind: string) {
    super(`The apiserver does not serve kind ${kind} in ${apiVersion}`);
  }
}

/** True for a 404: the object (or its kind) does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

/** True for a 409 Conflict on a write: a stale resourceVersion or an SSA field conflict. Retry with a fresh read. */
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason !== "AlreadyExists";
}

/** True for a 409 AlreadyExists from a create. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason === "AlreadyExists";
}

/** True for a 410: a watch or a paginated list asked for a resourceVersion etcd has compacted away. */
export function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.code === 410;
}
