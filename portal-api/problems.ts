/**
 * Errors as RFC 9457 problem details (`application/problem+json`): typed errors thrown by routes, and the
 * mapping of the errors of the layers below (accounts, Kubernetes, fastify) onto HTTP.
 */
import { AccountError, type AccountErrorCode } from "../accounts/service.ts";
import { KubeError } from "./kube.ts";

/** Base of the `type` URIs; each problem kind has a page there. */
export const PROBLEM_BASE = "https://wicked.dev/problems/";

/** The body of an error response. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Field-level problems (validation) or policy problems (password). */
  errors?: Array<{ path?: string; message: string }>;
}

/** An error the client can act on, with the HTTP status and problem type it maps to. */
export class HttpProblem extends Error {
  override readonly name = "HttpProblem";
  constructor(
    readonly status: number,
    /** Short kebab-case kind, appended to PROBLEM_BASE. */
    readonly kind: string,
    readonly title: string,
    detail: string,
    readonly errors?: Array<{ path?: string; message: string }>,
    /** Extra response headers (WWW-Authenticate, Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

/** 400: the request is malformed or breaks a rule. */
export const badRequest = (kind: string, detail: string, errors?: ProblemBody["errors"]) =>
  new HttpProblem(400, kind, "Bad request", detail, errors);
/** 401: no valid access token. */
export const unauthorized = (detail: string, error = "invalid_token") =>
  new HttpProblem(401, "unauthorized", "Unauthorized", detail, undefined, {
    "WWW-Authenticate": `Bearer error="${error}", error_description="${detail.replace(/"/g, "'")}"`,
  });
/** 403: the caller may not do this. */
export const forbidden = (kind: string, detail: string) => new HttpProblem(403, kind, "Forbidden", detail);
/** 404: no such object, or the caller may not know it exists. */
export const notFound = (what: string, name: string) =>
  new HttpProblem(404, "not-found", "Not found", `There is no ${what} "${name}" that you can see.`);
/** 409: the request conflicts with the current state. */
export const conflict = (kind: string, detail: string) => new HttpProblem(409, kind, "Conflict", detail);

const ACCOUNT_STATUS: Record<AccountErrorCode, [number, string]> = {
  InvalidCredentials: [401, "invalid-credentials"],
  EmailNotVerified: [403, "email-not-verified"],
  TokenInvalid: [400, "token-invalid"],
  TokenExpired: [410, "token-expired"],
  TokenUsed: [410, "token-used"],
  WeakPassword: [400, "weak-password"],
  SignupDisabled: [403, "signup-disabled"],
  EmailTaken: [409, "email-taken"],
  InvalidEmail: [400, "invalid-email"],
};

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  406: "Not acceptable",
  409: "Conflict",
  410: "Gone",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable content",
  429: "Too many requests",
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service unavailable",
};

/** The error's problem, or undefined when it is not one the client can act on (an internal error). */
export function toProblem(err: unknown): HttpProblem | undefined {
  if (err instanceof HttpProblem) return err;
  if (err instanceof AccountError) {
    const [status, kind] = ACCOUNT_STATUS[err.code];
    return new HttpProblem(
      status,
      kind,
      TITLES[status] ?? "Error",
      err.message,
      err.problems.length > 0 ? err.problems.map((message) => ({ path: "/password", message })) : undefined,
    );
  }
  if (err instanceof KubeError) return kubeProblem(err);
  if (typeof err !== "object" || err === null) return undefined;
  const validation = Reflect.get(err, "validation");
  if (Array.isArray(validation)) {
    const context = String(Reflect.get(err, "validationContext") ?? "body");
    const errors = validation.map((v: { instancePath?: string; message?: string; params?: object }) => ({
      path: `/${context}${v.instancePath ?? ""}`,
      message: v.message ?? "is invalid",
    }));
    return badRequest(
      "validation-failed",
      `The request ${context} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join("; ")}.`,
      errors,
    );
  }
  const statusCode = Reflect.get(err, "statusCode");
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    const message = Reflect.get(err, "message");
    return new HttpProblem(
      statusCode,
      kebab(TITLES[statusCode] ?? "client-error"),
      TITLES[statusCode] ?? "Client error",
      typeof message === "string" && message ? message : (TITLES[statusCode] ?? "The request was refused."),
    );
  }
  return undefined;
}

/** The apiserver's refusals, passed on with its message (admission webhooks and CEL rules say what is wrong). */
function kubeProblem(err: KubeError): HttpProblem {
  switch (err.status) {
    case 404:
      return new HttpProblem(404, "not-found", "Not found", err.message);
    case 409:
      return conflict("already-exists", err.message);
    case 400:
    case 422:
      return new HttpProblem(422, "invalid-resource", "Unprocessable content", err.message);
    case 403:
      return forbidden("denied-by-cluster", err.message);
    default:
      return new HttpProblem(
        502,
        "cluster-unavailable",
        "Bad gateway",
        "The Kubernetes API did not accept the change; try again in a moment.",
      );
  }
}

/** The JSON body of a problem. */
export function problemBody(problem: HttpProblem, instance?: string): ProblemBody {
  const body: ProblemBody = {
    type: `${PROBLEM_BASE}${problem.kind}`,
    title: problem.title,
    status: problem.status,
    detail: problem.message,
  };
  if (instance) body.instance = instance;
  if (problem.errors) body.errors = problem.errors;
  return body;
}

function kebab(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}
