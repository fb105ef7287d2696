/**
 * The portal UI's client of the portal API: openapi-fetch over the paths generated from the portal API's
 * OpenAPI document (api-schema.generated.ts), with the user's access token, and every refusal turned into an
 * ApiProblem carrying the problem+json body, so pages can show what went wrong and what to do.
 */
import createClient, { type Client } from "openapi-fetch";
import { forwardedClientHeaders } from "../component/client-address.ts";
import type { paths } from "./api-schema.generated.ts";
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
  QueryOf,
  RequestBody,
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

/**
 * The query string of a request, without the `?`: undefined and empty values are left out (the UI passes
 * empty form fields through, and an empty filter means no filter).
 */
function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  return params.toString();
}

/** The Authorization header of a request with the user's access token, none without one. */
function bearer(token: string | undefined): { Authorization: string | undefined } {
  return { Authorization: token ? `Bearer ${token}` : undefined };
}

/** The answer's body; the client's middleware has already thrown an ApiProblem for any other answer than 2xx. */
async function body<T>(pending: Promise<{ data?: T }>): Promise<T> {
  return (await pending).data as T;
}

/** The portal API over HTTP. */
export class PortalApiClient {
  private readonly client: Client<paths>;

  constructor(
    baseUrl: string,
    fetchImpl: typeof fetch = fetch,
    timeoutMs = 15_000,
    /** Signs the browser addresses passed to the account calls; without it none are sent. */
    private readonly clientAddressKey?: string,
  ) {
    this.client = createClient<paths>({
      baseUrl,
      headers: { Accept: "application/json, application/problem+json, text/csv" },
      querySerializer: queryString,
      redirect: "manual",
      fetch: async (request) => {
        try {
          return await fetchImpl(request, { signal: AbortSignal.timeout(timeoutMs) });
        } catch {
          throw new ApiProblem(
            503,
            "Service unavailable",
            "The portal API cannot be reached right now; try again in a moment.",
          );
        }
      },
    });
    this.client.use({
      async onResponse({ response }) {
        if (!response.ok) throw await problemFrom(response);
        return undefined;
      },
    });
  }

  /**
   * The headers that hand the portal API the browser's address, for its per-address limits (the browser's,
   * not the UI's): none without a key or an address.
   */
  private from(clientAddress: string | undefined): Record<string, string> {
    return this.clientAddressKey && clientAddress
      ? forwardedClientHeaders(this.clientAddressKey, clientAddress)
      : {};
  }

  // Accounts (no token; throttled by the portal API per `clientAddress`, the browser's address).
  signUp(account: RequestBody<"signUp">, clientAddress?: string): Promise<Accepted> {
    return body(this.client.POST("/accounts", { headers: this.from(clientAddress), body: account }));
  }
  verifyEmail(token: string, clientAddress?: string): Promise<{ email: string; verified: true }> {
    return body(this.client.POST("/accounts/verify", { headers: this.from(clientAddress), body: { token } }));
  }
  resendVerification(email: string, clientAddress?: string): Promise<Accepted> {
    return body(
      this.client.POST("/accounts/verification", { headers: this.from(clientAddress), body: { email } }),
    );
  }
  requestPasswordReset(email: string, clientAddress?: string): Promise<Accepted> {
    return body(
      this.client.POST("/accounts/password-reset", { headers: this.from(clientAddress), body: { email } }),
    );
  }
  async resetPassword(token: string, password: string, clientAddress?: string): Promise<void> {
    await this.client.POST("/accounts/password-reset/confirm", {
      headers: this.from(clientAddress),
      body: { token, password },
    });
  }

  // The caller.
  me(token: string): Promise<Me> {
    return body(this.client.GET("/me", { headers: bearer(token) }));
  }
  updateMe(token: string, displayName: string): Promise<{ displayName: string }> {
    return body(this.client.PATCH("/me", { headers: bearer(token), body: { displayName } }));
  }
  async changePassword(token: string, currentPassword: string, newPassword: string): Promise<void> {
    await this.client.POST("/me/password", {
      headers: bearer(token),
      body: { currentPassword, newPassword },
    });
  }
  async deleteMe(token: string): Promise<void> {
    await this.client.DELETE("/me", { headers: bearer(token) });
  }

  // Catalog (token optional).
  apis(token: string | undefined, query: QueryOf<"listApis">): Promise<Page<ApiSummary>> {
    return body(this.client.GET("/apis", { headers: bearer(token), params: { query } }));
  }
  api(token: string | undefined, name: string): Promise<ApiDetail> {
    return body(this.client.GET("/apis/{name}", { headers: bearer(token), params: { path: { name } } }));
  }
  openApi(token: string | undefined, name: string): Promise<Record<string, unknown>> {
    return body(
      this.client.GET("/apis/{name}/openapi", { headers: bearer(token), params: { path: { name } } }),
    );
  }

  // Applications.
  applications(token: string, query: QueryOf<"listApplications"> = {}): Promise<Page<Application>> {
    return body(this.client.GET("/applications", { headers: bearer(token), params: { query } }));
  }
  application(token: string, name: string): Promise<Application> {
    return body(
      this.client.GET("/applications/{name}", { headers: bearer(token), params: { path: { name } } }),
    );
  }
  createApplication(token: string, application: RequestBody<"createApplication">): Promise<Application> {
    return body(this.client.POST("/applications", { headers: bearer(token), body: application }));
  }
  updateApplication(
    token: string,
    name: string,
    change: RequestBody<"updateApplication">,
  ): Promise<Application> {
    return body(
      this.client.PATCH("/applications/{name}", {
        headers: bearer(token),
        params: { path: { name } },
        body: change,
      }),
    );
  }
  async deleteApplication(token: string, name: string): Promise<void> {
    await this.client.DELETE("/applications/{name}", { headers: bearer(token), params: { path: { name } } });
  }

  // Subscriptions.
  subscriptions(token: string, query: QueryOf<"listSubscriptions"> = {}): Promise<Page<Subscription>> {
    return body(this.client.GET("/subscriptions", { headers: bearer(token), params: { query } }));
  }
  subscription(token: string, name: string): Promise<Subscription> {
    return body(
      this.client.GET("/subscriptions/{name}", { headers: bearer(token), params: { path: { name } } }),
    );
  }
  subscribe(token: string, subscription: RequestBody<"createSubscription">): Promise<Subscription> {
    return body(this.client.POST("/subscriptions", { headers: bearer(token), body: subscription }));
  }
  credentials(token: string, name: string): Promise<Credentials> {
    return body(
      this.client.GET("/subscriptions/{name}/credentials", {
        headers: bearer(token),
        params: { path: { name } },
      }),
    );
  }
  rotate(token: string, name: string): Promise<Subscription> {
    return body(
      this.client.POST("/subscriptions/{name}/rotate", {
        headers: bearer(token),
        params: { path: { name } },
      }),
    );
  }
  async unsubscribe(token: string, name: string): Promise<void> {
    await this.client.DELETE("/subscriptions/{name}", { headers: bearer(token), params: { path: { name } } });
  }

  // Approvals.
  approvals(token: string, query: QueryOf<"listApprovals"> = {}): Promise<Page<PendingApproval>> {
    return body(this.client.GET("/approvals", { headers: bearer(token), params: { query } }));
  }
  approve(token: string, name: string): Promise<Subscription> {
    return body(
      this.client.POST("/approvals/{name}/approve", { headers: bearer(token), params: { path: { name } } }),
    );
  }
  reject(token: string, name: string, reason: string): Promise<Subscription> {
    return body(
      this.client.POST("/approvals/{name}/reject", {
        headers: bearer(token),
        params: { path: { name } },
        body: { reason },
      }),
    );
  }

  // Admin.
  adminUsers(token: string, query: QueryOf<"listUsers"> = {}): Promise<Page<AdminUser>> {
    return body(this.client.GET("/admin/users", { headers: bearer(token), params: { query } }));
  }
  updateUser(token: string, id: string, change: RequestBody<"updateUser">): Promise<AdminUser> {
    return body(
      this.client.PATCH("/admin/users/{id}", {
        headers: bearer(token),
        params: { path: { id } },
        body: change,
      }),
    );
  }
  adminApplications(
    token: string,
    query: QueryOf<"listAllApplications"> = {},
  ): Promise<Page<AdminApplication>> {
    return body(this.client.GET("/admin/applications", { headers: bearer(token), params: { query } }));
  }
  adminSubscriptions(
    token: string,
    query: QueryOf<"listAllSubscriptions"> = {},
  ): Promise<Page<AdminSubscription>> {
    return body(this.client.GET("/admin/subscriptions", { headers: bearer(token), params: { query } }));
  }
  auditLog(token: string, query: QueryOf<"listAuditLog"> = {}): Promise<Page<AuditEntry>> {
    return body(this.client.GET("/admin/audit-log", { headers: bearer(token), params: { query } }));
  }
  /** The CSV export as the raw answer, its body unread (the caller passes on its Content-Disposition). */
  async auditLogCsv(token: string, query: QueryOf<"exportAuditLog"> = {}): Promise<Response> {
    const { response } = await this.client.GET("/admin/audit-log.csv", {
      headers: bearer(token),
      params: { query },
      parseAs: "stream",
    });
    return response;
  }
}
