/** Approvers' and administrators' routes: the approvals queue, users, applications, subscriptions, audit, health. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Session } from "../session.ts";
import {
  attempt,
  formValue,
  pageContext,
  pageNumber,
  queryValue,
  redirectWith,
  requireSession,
  sendPage,
  type UiContext,
} from "../ui-context.ts";
import {
  adminApplicationsPage,
  adminOverviewPage,
  adminSubscriptionsPage,
  approvalsPage,
  auditPage,
  type ComponentHealth,
  usersPage,
} from "../views/admin.ts";
import { errorPage } from "../views/public.ts";

/** Checks the health of a component: a 2xx answer within 3 s. */
export async function probe(fetchImpl: typeof fetch, name: string, url: string): Promise<ComponentHealth> {
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(3000), redirect: "manual" });
    return {
      name,
      url,
      ok: response.ok,
      detail: response.ok ? `Answered ${response.status}.` : `Answered ${response.status}.`,
    };
  } catch (err) {
    return { name, url, ok: false, detail: `No answer: ${(err as Error).message}.` };
  }
}

/** The admin routes. */
export async function adminRoutes(app: FastifyInstance, ui: UiContext): Promise<void> {
  /** The session of an admin (or approver, with `approver`), or a 403 page. */
  async function requireRole(
    request: FastifyRequest,
    reply: FastifyReply,
    role: "admin" | "approver",
  ): Promise<Session | undefined> {
    const session = await requireSession(ui, request, reply);
    if (!session) return undefined;
    const allowed = session.user.admin || (role === "approver" && session.user.approver);
    if (!allowed) {
      const ctx = pageContext(ui, request, reply);
      sendPage(
        reply,
        errorPage(
          ctx,
          403,
          "Not allowed",
          role === "admin"
            ? "Only the portal's administrators see this page."
            : "Only approvers see this page.",
        ),
        403,
      );
      return undefined;
    }
    return session;
  }

  app.get("/admin", async (request, reply) => {
    const session = await requireRole(request, reply, "admin");
    if (!session) return reply;
    const token = session.accessToken;
    const [health, users, apps, subs, pending] = await Promise.all([
      Promise.all([
        Promise.resolve({
          name: "Portal UI",
          url: ui.config.urls.portal,
          ok: true,
          detail: "Serving this page.",
        }),
        ...ui.health.map((h) => probe(ui.fetch, h.name, h.url)),
      ]),
      attempt(() => ui.api.adminUsers(token, { pageSize: 1 })),
      attempt(() => ui.api.adminApplications(token, { pageSize: 1 })),
      attempt(() => ui.api.adminSubscriptions(token, { pageSize: 1 })),
      attempt(() => ui.api.approvals(token, { pageSize: 1 })),
    ]);
    const total = (r: typeof users | typeof apps | typeof subs | typeof pending) =>
      r.ok ? r.value.total : undefined;
    return sendPage(
      reply,
      adminOverviewPage(pageContext(ui, request, reply), health, [
        { label: "Users", value: total(users), href: "/admin/users" },
        { label: "Applications", value: total(apps), href: "/admin/applications" },
        { label: "Subscriptions", value: total(subs), href: "/admin/subscriptions" },
        { label: "Waiting for approval", value: total(pending), href: "/approvals" },
      ]),
    );
  });

  app.get("/approvals", async (request, reply) => {
    const session = await requireRole(request, reply, "approver");
    if (!session) return reply;
    const queue = await ui.api.approvals(session.accessToken, { page: pageNumber(request), pageSize: 50 });
    return sendPage(reply, approvalsPage(pageContext(ui, request, reply), queue));
  });

  app.post<{ Params: { name: string } }>("/approvals/:name/approve", async (request, reply) => {
    const session = await requireRole(request, reply, "approver");
    if (!session) return reply;
    const result = await attempt(() => ui.api.approve(session.accessToken, request.params.name));
    if (!result.ok)
      return redirectWith(ui, reply, "/approvals", { kind: "error", text: result.problem.message });
    return redirectWith(ui, reply, "/approvals", {
      kind: "success",
      text: `Approved ${result.value.application}'s subscription to ${result.value.api}.`,
    });
  });

  app.post<{ Params: { name: string } }>("/approvals/:name/reject", async (request, reply) => {
    const session = await requireRole(request, reply, "approver");
    if (!session) return reply;
    const reason = formValue(request.body, "reason").trim();
    if (!reason)
      return redirectWith(ui, reply, "/approvals", {
        kind: "error",
        text: "Give a reason for the rejection; the developer sees it.",
      });
    const result = await attempt(() => ui.api.reject(session.accessToken, request.params.name, reason));
    if (!result.ok)
      return redirectWith(ui, reply, "/approvals", { kind: "error", text: result.problem.message });
    return redirectWith(ui, reply, "/approvals", {
      kind: "success",
      text: `Rejected ${result.value.application}'s subscription to ${result.value.api}.`,
    });
  });

  app.get("/admin/users", async (request, reply) => {
    const session = await requireRole(request, reply, "admin");
    if (!session) return reply;
    const q = queryValue(request, "q").slice(0, 100);
    const users = await ui.api.adminUsers(session.accessToken, {
      q,
      page: pageNumber(request),
      pageSize: 50,
    });
    return sendPage(reply, usersPage(pageContext(ui, request, reply), users, q));
  });

  app.post<{ Params: { id: string } }>("/admin/users/:id", async (request, reply) => {
    const session = await requireRole(request, reply, "admin");
    if (!session) return reply;
    const groups = [
      ...new Set(
        formValue(request.body, "groups")
          .split(/[\s,]+/)
          .map((g) => g.trim().toLowerCase())
          .filter(Boolean),
      ),
    ];
    const isAdmin = formValue(request.body, "isAdmin") === "yes";
    const result = await attempt(() =>
      ui.api.updateUser(session.accessToken, request.params.id, { groups, isAdmin }),
    );
    if (!result.ok) {
      const users = await ui.api.adminUsers(session.accessToken, { pageSize: 50 });
      return sendPage(
        reply,
        usersPage(pageContext(ui, request, reply), users, "", result.problem),
        result.problem.status,
      );
    }
    return redirectWith(ui, reply, "/admin/users", {
      kind: "success",
      text: `${result.value.email} is saved.`,
    });
  });

  app.get("/admin/applications", async (request, reply) => {
    const session = await requireRole(request, reply, "admin");
    if (!session) return reply;
    const q = queryValue(request, "q").slice(0, 100);
    const apps = await ui.api.adminApplications(session.accessToken, {
      q,
      page: pageNumber(request),
      pageSize: 50,
    });
    return sendPage(reply, adminApplicationsPage(pageContext(ui, request, reply), apps, q));
  });

  app.get("/admin/subscriptions", async (request, reply) => {
    const session = await requireRole(request, reply, "admin");
    if (!session) return reply;
    const filters = {
      api: queryValue(request, "api").slice(0, 253),
      phase: queryValue(request, "phase").slice(0, 32),
    };
    const subs = await ui.api.adminSubscriptions(session.accessToken, {
      ...filters,
      page: pageNumber(request),
      pageSize: 50,
    });
    return sendPage(reply, adminSubscriptionsPage(pageContext(ui, request, reply), subs, filters));
  });

  function auditFilters(request: FastifyRequest) {
    return {
      actor: queryValue(request, "actor").slice(0, 320),
      action: queryValue(request, "action").slice(0, 100),
      targetName: queryValue(request, "targetName").slice(0, 253),
    };
  }

  app.get("/admin/audit", async (request, reply) => {
    const session = await requireRole(request, reply, "admin");
    if (!session) return reply;
    const filters = auditFilters(request);
    const entries = await ui.api.auditLog(session.accessToken, {
      ...filters,
      page: pageNumber(request),
      pageSize: 50,
    });
    return sendPage(reply, auditPage(pageContext(ui, request, reply), entries, filters));
  });

  app.get("/admin/audit.csv", async (request, reply) => {
    const session = await requireRole(request, reply, "admin");
    if (!session) return reply;
    const response = await ui.api.auditLogCsv(session.accessToken, auditFilters(request));
    return reply
      .type("text/csv; charset=utf-8")
      .header(
        "Content-Disposition",
        response.headers.get("content-disposition") ?? 'attachment; filename="audit-log.csv"',
      )
      .header("Cache-Control", "no-store")
      .send(await response.text());
  });
}
