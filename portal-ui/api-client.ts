/**
 * The portal UI's client of the portal API: JSON over fetch with the user's access token, and every refusal
 * turned into an ApiProblem carrying the problem+json body, so pages can show what went wrong and what to do.
 */
import type {
  Accepted,
  AdminApplication,
  AdminSubscription,
  AdminUser,
  ApiDetail,
  ApiSummary,
  Application,
  AuditEntry,
  Credentials,
  Me,
  Page,
  PendingApproval,
  Subscription,
} from "./api-types.ts";

/** A refusal or failure of the portal API, as RFC 9457 problem details. */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    /** The problem type URI, when the portal API named one. */
    readonly type: string | undefined = undefined,
    /** Field-level problems (validation, password policy). */
    readonly errors: Array<{ path?: string; message: string }> = [],
  ) {
    super(detail);
  }

  /** The problem kind: the last segment of the type URI (`email-taken`), or "" when there is none. */
  get kind(): string {
    return this.type?.split("/").pop() ?? "";
  }
}

/** Query parameters; undefined and empty values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options of one request. */
export interface RequestOptions {
  token?: string;
  query?: Query;
  body?: unknown;
}

/** Reads an error response into an ApiProblem. */
export async function problemFrom(response: Response): Promise<ApiProblem> {
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (typeof body === "object" && body !== null) {
    const get = (key: string) => Reflect.get(body as object, key);
    const detail = get("detail") ?? get("message");
    const errors = get("errors");
    return new ApiProblem(
      response.status,
      String(get("title") ?? response.statusText ?? "Error"),
      typeof detail === "string" && detail ? detail : `The portal API answered ${response.status}.`,
      typeof get("type") === "string" ? String(get("type")) : undefined,
      Array.isArray(errors)
        ? errors.flatMap((e: unknown) =>
            typeof e === "object" && e !== null && typeof Reflect.get(e, "message") === "string"
              ? [
                  {
                    path: Reflect.get(e, "path") as string | undefined,
                    message: String(Reflect.get(e, "message")),
                  },
                ]
              : [],
          )
        : [],
    );
  }
  return new ApiProblem(
    response.status,
    response.statusText || "Error",
    response.status >= 500
      ? "The portal API had a problem answering; try again in a moment."
      : `The portal API answered ${response.status}.`,
  );
}

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === "") continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The portal API over HTTP. */
export class PortalApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Sends a request; resolves with the parsed body (undefined for 204), rejects with ApiProblem. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Sends a request and returns the raw response (for CSV downloads); rejects with ApiProblem. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: "application/json, application/problem+json, text/csv",
    };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(
        `${this.baseUrl.replace(/\/+$/, "")}${path}${queryString(options.query)}`,
        {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: "manual",
        },
      );
    } catch {
      throw new ApiProblem(
        503,
        "Service unavailable",
        "The portal API cannot be reached right now; try again in a moment.",
      );
    }
    if (!response.ok) throw await problemFrom(response);
    return response;
  }

  // Accounts (no token).
  signUp(body: { email: string; displayName: string; password: string }): Promise<Accepted> {
    return this.request("POST", "/accounts", { body });
  }
  verifyEmail(token: string): Promise<{ email: string; verified: true }> {
    return this.request("POST", "/accounts/verify", { body: { token } });
  }
  resendVerification(email: string): Promise<Accepted> {
    return this.request("POST", "/accounts/verification", { body: { email } });
  }
  requestPasswordReset(email: string): Promise<Accepted> {
    return this.request("POST", "/accounts/password-reset", { body: { email } });
  }
  resetPassword(token: string, password: string): Promise<void> {
    return this.request("POST", "/accounts/password-reset/confirm", { body: { token, password } });
  }

  // The caller.
  me(token: string): Promise<Me> {
    return this.request("GET", "/me", { token });
  }
  updateMe(token: string, displayName: string): Promise<{ displayName: string }> {
    return this.request("PATCH", "/me", { token, body: { displayName } });
  }
  changePassword(token: string, currentPassword: string, newPassword: string): Promise<void> {
    return this.request("POST", "/me/password", { token, body: { currentPassword, newPassword } });
  }
  deleteMe(token: string): Promise<void> {
    return this.request("DELETE", "/me", { token });
  }

  // Catalog (token optional).
  apis(token: string | undefined, query: Query): Promise<Page<ApiSummary>> {
    return this.request("GET", "/apis", { token, query });
  }
  api(token: string | undefined, name: string): Promise<ApiDetail> {
    return this.request("GET", `/apis/${encodeURIComponent(name)}`, { token });
  }
  openApi(token: string | undefined, name: string): Promise<Record<string, unknown>> {
    return this.request("GET", `/apis/${encodeURIComponent(name)}/openapi`, { token });
  }

  // Applications.
  applications(token: string, query: Query = {}): Promise<Page<Application>> {
    return this.request("GET", "/applications", { token, query });
  }
  application(token: string, name: string): Promise<Application> {
    return this.request("GET", `/applications/${encodeURIComponent(name)}`, { token });
  }
  createApplication(
    token: string,
    body: {
      displayName: string;
      description?: string;
      clientType?: "confidential" | "public";
      redirectUris?: string[];
    },
  ): Promise<Application> {
    return this.request("POST", "/applications", { token, body });
  }
  updateApplication(token: string, name: string, body: Record<string, unknown>): Promise<Application> {
    return this.request("PATCH", `/applications/${encodeURIComponent(name)}`, { token, body });
  }
  deleteApplication(token: string, name: string): Promise<void> {
    return this.request("DELETE", `/applications/${encodeURIComponent(name)}`, { token });
  }

  // Subscriptions.
  subscriptions(token: string, query: Query = {}): Promise<Page<Subscription>> {
    return this.request("GET", "/subscriptions", { token, query });
  }
  subscription(token: string, name: string): Promise<Subscription> {
    return this.request("GET", `/subscriptions/${encodeURIComponent(name)}`, { token });
  }
  subscribe(token: string, body: { application: string; api: string; plan: string }): Promise<Subscription> {
    return this.request("POST", "/subscriptions", { token, body });
  }
  credentials(token: string, name: string): Promise<Credentials> {
    return this.request("GET", `/subscriptions/${encodeURIComponent(name)}/credentials`, { token });
  }
  rotate(token: string, name: string): Promise<Subscription> {
    return this.request("POST", `/subscriptions/${encodeURIComponent(name)}/rotate`, { token });
  }
  unsubscribe(token: string, name: string): Promise<void> {
    return this.request("DELETE", `/subscriptions/${encodeURIComponent(name)}`, { token });
  }

  // Approvals.
  approvals(token: string, query: Query = {}): Promise<Page<PendingApproval>> {
    return this.request("GET", "/approvals", { token, query });
  }
  approve(token: string, name: string, reason?: string): Promise<Subscription> {
    return this.request("POST", `/approvals/${encodeURIComponent(name)}/approve`, {
      token,
      body: reason ? { reason } : {},
    });
  }
  reject(token: string, name: string, reason: string): Promise<Subscription> {
    return this.request("POST", `/approvals/${encodeURIComponent(name)}/reject`, { token, body: { reason } });
  }

  // Admin.
  adminUsers(token: string, query: Query = {}): Promise<Page<AdminUser>> {
    return this.request("GET", "/admin/users", { token, query });
  }
  updateUser(token: string, id: string, body: { groups?: string[]; isAdmin?: boolean }): Promise<AdminUser> {
    return this.request("PATCH", `/admin/users/${encodeURIComponent(id)}`, { token, body });
  }
  adminApplications(token: string, query: Query = {}): Promise<Page<AdminApplication>> {
    return this.request("GET", "/admin/applications", { token, query });
  }
  adminSubscriptions(token: string, query: Query = {}): Promise<Page<AdminSubscription>> {
    return this.request("GET", "/admin/subscriptions", { token, query });
  }
  auditLog(token: string, query: Query = {}): Promise<Page<AuditEntry>> {
    return this.request("GET", "/admin/audit-log", { token, query });
  }
  auditLogCsv(token: string, query: Query = {}): Promise<Response> {
    return this.send("GET", "/admin/audit-log.csv", { token, query });
  }
}
