/** The developer's routes: applications, their team, subscriptions and credentials, and the account. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiProblem } from "../api-client.ts";
import type { ApplicationRole, Credentials } from "../api-types.ts";
import { clearSession, readSession, writeSession } from "../session.ts";
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
import { accountPage } from "../views/account.ts";
import {
  applicationPage,
  applicationsPage,
  newApplicationPage,
  subscriptionPage,
} from "../views/applications.ts";
import { donePage } from "../views/auth.ts";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const ROLES: ApplicationRole[] = ["Owner", "Collaborator", "Reader"];

/** Redirect URIs typed one per line. */
export function parseLines(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ];
}

/** The routes of applications, subscriptions and the account. */
export async function applicationRoutes(app: FastifyInstance, ui: UiContext): Promise<void> {
  /** Display names of the Apis the user sees, by name (empty when the catalog does not answer). */
  async function apiNames(token: string): Promise<Map<string, string>> {
    const result = await attempt(() => ui.api.apis(token, { pageSize: 100 }));
    return new Map(result.ok ? result.value.items.map((a) => [a.name, a.displayName]) : []);
  }

  app.get("/applications", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const [apps, subs, names] = await Promise.all([
      ui.api.applications(session.accessToken, { page: pageNumber(request), pageSize: 24 }),
      ui.api.subscriptions(session.accessToken, { pageSize: 100 }),
      apiNames(session.accessToken),
    ]);
    return sendPage(reply, applicationsPage(pageContext(ui, request, reply), apps, subs.items, names));
  });

  app.get("/applications/new", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    return sendPage(reply, newApplicationPage(pageContext(ui, request, reply)));
  });

  app.post("/applications", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const values = {
      displayName: formValue(request.body, "displayName").trim(),
      description: formValue(request.body, "description").trim(),
      clientType: formValue(request.body, "clientType") === "public" ? "public" : "confidential",
      redirectUris: formValue(request.body, "redirectUris"),
    } as const;
    const result = await attempt(() =>
      ui.api.createApplication(session.accessToken, {
        displayName: values.displayName,
        ...(values.description ? { description: values.description } : {}),
        clientType: values.clientType,
        redirectUris: parseLines(values.redirectUris),
      }),
    );
    if (!result.ok) {
      return sendPage(
        reply,
        newApplicationPage(pageContext(ui, request, reply), values, result.problem),
        result.problem.status,
      );
    }
    return redirectWith(ui, reply, `/applications/${result.value.name}`, {
      kind: "success",
      text: `${result.value.displayName} is registered. Subscribe it to an API to get credentials.`,
    });
  });

  app.get<{ Params: { name: string } }>("/applications/:name", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const [application, subs, names] = await Promise.all([
      ui.api.application(session.accessToken, request.params.name),
      ui.api.subscriptions(session.accessToken, { application: request.params.name, pageSize: 100 }),
      apiNames(session.accessToken),
    ]);
    return sendPage(
      reply,
      applicationPage(pageContext(ui, request, reply), application, subs.items, { apiNames: names }),
    );
  });

  /** Re-renders an application page with a problem in one of its sections. */
  async function applicationWithProblem(
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    name: string,
    opts: Parameters<typeof applicationPage>[3],
  ) {
    const [application, subs] = await Promise.all([
      ui.api.application(token, name),
      ui.api.subscriptions(token, { application: name, pageSize: 100 }),
    ]);
    return sendPage(
      reply,
      applicationPage(pageContext(ui, request, reply), application, subs.items, opts),
      opts?.problem?.status ?? 400,
    );
  }

  app.post<{ Params: { name: string } }>("/applications/:name/edit", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const name = request.params.name;
    const values = {
      displayName: formValue(request.body, "displayName").trim(),
      description: formValue(request.body, "description").trim(),
      redirectUris: formValue(request.body, "redirectUris"),
    };
    const result = await attempt(() =>
      ui.api.updateApplication(session.accessToken, name, {
        displayName: values.displayName,
        description: values.description,
        redirectUris: parseLines(values.redirectUris),
      }),
    );
    if (!result.ok) {
      return applicationWithProblem(request, reply, session.accessToken, name, {
        problem: result.problem,
        values,
        section: "settings",
      });
    }
    return redirectWith(ui, reply, `/applications/${name}`, {
      kind: "success",
      text: "Your changes are saved.",
    });
  });

  app.post<{ Params: { name: string } }>("/applications/:name/collaborators", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const name = request.params.name;
    const user = formValue(request.body, "user").trim();
    const roleValue = formValue(request.body, "role");
    const role = ROLES.find((r) => r === roleValue) ?? "Collaborator";
    const current = await ui.api.application(session.accessToken, name);
    const collaborators = [
      ...current.collaborators.filter((c) => c.user.toLowerCase() !== user.toLowerCase()),
      { user, role },
    ];
    const result = await attempt(() =>
      ui.api.updateApplication(session.accessToken, name, { collaborators }),
    );
    if (!result.ok) {
      return applicationWithProblem(request, reply, session.accessToken, name, {
        problem: result.problem,
        collaborator: { user, role },
        section: "team",
      });
    }
    return redirectWith(ui, reply, `/applications/${name}#team`, {
      kind: "success",
      text: `${user} is now ${role === "Owner" ? "an owner" : `a ${role.toLowerCase()}`}.`,
    });
  });

  app.post<{ Params: { name: string } }>(
    "/applications/:name/collaborators/remove",
    async (request, reply) => {
      const session = await requireSession(ui, request, reply);
      if (!session) return reply;
      const name = request.params.name;
      const user = formValue(request.body, "user");
      const current = await ui.api.application(session.accessToken, name);
      const collaborators = current.collaborators.filter((c) => c.user.toLowerCase() !== user.toLowerCase());
      const result = await attempt(() =>
        ui.api.updateApplication(session.accessToken, name, { collaborators }),
      );
      if (!result.ok) {
        return applicationWithProblem(request, reply, session.accessToken, name, {
          problem: result.problem,
          section: "team",
        });
      }
      return redirectWith(ui, reply, `/applications/${name}#team`, {
        kind: "success",
        text: `${user} no longer has access.`,
      });
    },
  );

  app.post<{ Params: { name: string } }>("/applications/:name/delete", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const name = request.params.name;
    if (formValue(request.body, "confirm") !== "yes") {
      return redirectWith(ui, reply, `/applications/${name}#danger`, {
        kind: "error",
        text: "Tick the box to confirm the deletion.",
      });
    }
    await ui.api.deleteApplication(session.accessToken, name);
    return redirectWith(ui, reply, "/applications", {
      kind: "success",
      text: "The application and its subscriptions are deleted.",
    });
  });

  app.post("/subscriptions", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const body = {
      application: formValue(request.body, "application"),
      api: formValue(request.body, "api"),
      plan: formValue(request.body, "plan"),
    };
    if (!NAME.test(body.api)) return reply.code(400).send();
    const result = await attempt(() => ui.api.subscribe(session.accessToken, body));
    if (!result.ok) {
      return redirectWith(ui, reply, `/apis/${body.api}#plans`, {
        kind: "error",
        text: result.problem.message,
      });
    }
    const pending = result.value.approval === "Pending" && result.value.phase === "PendingApproval";
    return redirectWith(ui, reply, `/subscriptions/${result.value.name}`, {
      kind: "success",
      text: pending
        ? "Subscribed. The API's team will review your request."
        : "Subscribed. Your credentials are on their way.",
    });
  });

  app.get<{ Params: { name: string } }>("/subscriptions/:name", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const sub = await ui.api.subscription(session.accessToken, request.params.name);
    const [application, api] = await Promise.all([
      attempt(() => ui.api.application(session.accessToken, sub.application)),
      attempt(() => ui.api.api(session.accessToken, sub.api)),
    ]);
    const canManage = application.ok && application.value.role !== "Reader";
    let credentials: Credentials | undefined;
    let problem: ApiProblem | undefined;
    if (queryValue(request, "show") === "credentials" && canManage) {
      const result = await attempt(() => ui.api.credentials(session.accessToken, sub.name));
      if (result.ok) credentials = result.value;
      else problem = result.problem;
    }
    return sendPage(
      reply,
      subscriptionPage(pageContext(ui, request, reply), sub, {
        canManage,
        names: {
          ...(application.ok ? { application: application.value.displayName } : {}),
          ...(api.ok ? { api: api.value.displayName } : {}),
        },
        ...(credentials ? { credentials } : {}),
        ...(problem ? { problem } : {}),
      }),
    );
  });

  app.post<{ Params: { name: string } }>("/subscriptions/:name/rotate", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const result = await attempt(() => ui.api.rotate(session.accessToken, request.params.name));
    if (!result.ok)
      return redirectWith(ui, reply, `/subscriptions/${request.params.name}`, {
        kind: "error",
        text: result.problem.message,
      });
    return redirectWith(ui, reply, `/subscriptions/${request.params.name}`, {
      kind: "success",
      text: "New credentials are being issued; the old ones stop working. Show the credentials again in a moment.",
    });
  });

  app.post<{ Params: { name: string } }>("/subscriptions/:name/delete", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const sub = await ui.api.subscription(session.accessToken, request.params.name);
    const result = await attempt(() => ui.api.unsubscribe(session.accessToken, request.params.name));
    if (!result.ok)
      return redirectWith(ui, reply, `/subscriptions/${request.params.name}`, {
        kind: "error",
        text: result.problem.message,
      });
    return redirectWith(ui, reply, `/applications/${sub.application}`, {
      kind: "success",
      text: `Unsubscribed from ${sub.api}.`,
    });
  });

  app.get("/account", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const me = await ui.api.me(session.accessToken);
    return sendPage(reply, accountPage(pageContext(ui, request, reply), me));
  });

  app.post("/account/profile", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const displayName = formValue(request.body, "displayName").trim();
    const result = await attempt(() => ui.api.updateMe(session.accessToken, displayName));
    if (!result.ok) {
      const me = await ui.api.me(session.accessToken);
      return sendPage(
        reply,
        accountPage(pageContext(ui, request, reply), me, { problem: result.problem, section: "profile" }),
        result.problem.status,
      );
    }
    const current = readSession(request) ?? session;
    writeSession(reply, ui.flags, { ...current, user: { ...current.user, name: result.value.displayName } });
    return redirectWith(ui, reply, "/account", { kind: "success", text: "Your name is saved." });
  });

  app.post("/account/password", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const result = await attempt(() =>
      ui.api.changePassword(
        session.accessToken,
        formValue(request.body, "currentPassword"),
        formValue(request.body, "newPassword"),
      ),
    );
    if (!result.ok) {
      const me = await ui.api.me(session.accessToken);
      return sendPage(
        reply,
        accountPage(pageContext(ui, request, reply), me, { problem: result.problem, section: "password" }),
        result.problem.status,
      );
    }
    // The change ended every session of the account at the auth server, this one's too.
    clearSession(reply, ui.flags);
    return redirectWith(ui, reply, "/", {
      kind: "success",
      text: "Your password is changed, and every session of your account was logged out. Log in with your new password.",
    });
  });

  app.post("/account/delete", async (request, reply) => {
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    if (formValue(request.body, "confirm") !== "yes") {
      return redirectWith(ui, reply, "/account#delete", {
        kind: "error",
        text: "Tick the box to confirm the deletion.",
      });
    }
    await ui.api.deleteMe(session.accessToken);
    clearSession(reply, ui.flags);
    const ctx = { ...pageContext(ui, request, reply), user: undefined };
    return sendPage(
      reply,
      donePage(ctx, "Account deleted", "Your account, applications and subscriptions are deleted. Goodbye.", {
        href: "/",
        text: "Home",
      }),
    );
  });
}
