/** The pages of approvers and administrators: approvals, users, applications, subscriptions, audit log, health. */
import type { ApiProblem } from "../api-client.ts";
import type {
  AdminApplication,
  AdminSubscription,
  AdminUser,
  AuditEntry,
  Page,
  PendingApproval,
} from "../api-types.ts";
import { html, type Renderable, type SafeHtml } from "../html.ts";
import { emptyState, formatDate, pagination, postForm, problemAlert, statusBadge } from "./components.ts";
import type { PageContext } from "./context.ts";
import { layout } from "./layout.ts";

function adminNav(ctx: PageContext): SafeHtml {
  const items: Array<[string, string]> = [
    ["/admin", "Overview"],
    ["/approvals", "Approvals"],
    ["/admin/users", "Users"],
    ["/admin/applications", "Applications"],
    ["/admin/subscriptions", "Subscriptions"],
    ["/admin/audit", "Audit log"],
  ];
  const shown = ctx.user?.admin ? items : items.filter(([href]) => href === "/approvals");
  if (shown.length <= 1) return html``;
  return html`<nav class="tabs" aria-label="Administration"><ul>${shown.map(
    ([href, label]) =>
      html`<li><a href="${href}"${ctx.path === href ? html` aria-current="page"` : ""}>${label}</a></li>`,
  )}</ul></nav>`;
}

function adminLayout(
  ctx: PageContext,
  title: string,
  lead: string,
  body: Renderable,
  actions?: Renderable,
): SafeHtml {
  return layout(ctx, { title, lead, body: html`${adminNav(ctx)}${body}`, wide: true, actions });
}

function table(caption: string, head: string[], rows: SafeHtml[]): SafeHtml {
  return html`<div class="table-wrap" role="region" aria-label="${caption}" tabindex="0"><table><caption class="visually-hidden">${caption}</caption>
<thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

/** The health of one component. */
export interface ComponentHealth {
  name: string;
  url: string;
  ok: boolean;
  detail: string;
}

/** The admin overview: component health and counts. */
export function adminOverviewPage(
  ctx: PageContext,
  health: ComponentHealth[],
  counts: Array<{ label: string; value: number | undefined; href: string }>,
): SafeHtml {
  const body = html`<section aria-labelledby="health"><h2 id="health">Components</h2>
<ul class="card-grid health">${health.map(
    (
      h,
    ) => html`<li class="card"><p class="card-title"><span class="dot ${h.ok ? "dot-ok" : "dot-bad"}" aria-hidden="true"></span>${h.name}</p>
<p><span class="badge ${h.ok ? "badge-success" : "badge-danger"}">${h.ok ? "Healthy" : "Unhealthy"}</span></p>
<p class="muted small">${h.detail}</p><p class="muted small"><code>${h.url}</code></p></li>`,
  )}</ul></section>
<section aria-labelledby="numbers" class="section"><h2 id="numbers">At a glance</h2>
<ul class="stats">${counts.map(
    (c) =>
      html`<li class="card stat"><a href="${c.href}"><span class="stat-value">${c.value ?? "–"}</span><span class="stat-label">${c.label}</span></a></li>`,
  )}</ul></section>`;
  return adminLayout(ctx, "Administration", "The state of the portal.", body);
}

/** The approvals queue. */
export function approvalsPage(
  ctx: PageContext,
  queue: Page<PendingApproval>,
  problem?: ApiProblem,
): SafeHtml {
  const body = html`${problemAlert(problem, "The decision was not recorded")}
${
  queue.items.length === 0
    ? emptyState("Nothing to approve", "Subscriptions to plans that need approval appear here.")
    : html`${table(
        "Subscriptions waiting for approval",
        ["Application", "Requested by", "API", "Plan", "Waiting since", "Decision"],
        queue.items.map(
          (s) => html`<tr>
<td>${s.applicationDisplayName && s.applicationDisplayName !== s.application ? html`${s.applicationDisplayName}<br><code class="muted">${s.application}</code>` : s.application}</td><td>${s.owner}</td><td><a href="/apis/${s.api}">${s.apiDisplayName}</a></td><td>${s.planDisplayName}</td><td>${formatDate(s.requestedAt)}</td>
<td class="decision">
${postForm(
  `/approvals/${s.name}/approve`,
  ctx.csrfToken,
  html`<button type="submit" class="button button-primary button-small">Approve<span class="visually-hidden"> ${s.applicationDisplayName ?? s.application} for ${s.apiDisplayName}</span></button>`,
  { className: "inline-form" },
)}
<details class="reject"><summary class="button button-secondary button-small">Reject<span class="visually-hidden"> ${s.applicationDisplayName ?? s.application} for ${s.apiDisplayName}</span></summary>
${postForm(
  `/approvals/${s.name}/reject`,
  ctx.csrfToken,
  html`<label for="reason-${s.name}">Reason, shown to the developer</label><textarea id="reason-${s.name}" name="reason" rows="2" required maxlength="1000"></textarea>
<button type="submit" class="button button-danger button-small">Reject subscription</button>`,
  { className: "stack" },
)}
</details>
</td></tr>`,
        ),
      )}${pagination(queue, (p) => `/approvals?page=${p}`)}`
}`;
  return adminLayout(ctx, "Approvals", "Subscriptions waiting for your decision.", body);
}

/** The users list with their groups. */
export function usersPage(
  ctx: PageContext,
  users: Page<AdminUser>,
  q: string,
  problem?: ApiProblem,
): SafeHtml {
  const body = html`<form class="filters" method="get" action="/admin/users" role="search">
<div class="field grow"><label for="q">Search</label><input id="q" name="q" type="search" value="${q}" placeholder="Email or name"></div>
<div class="field field-button"><button class="button button-primary" type="submit">Search</button></div>
</form>
${problemAlert(problem, "The user was not changed")}
${
  users.items.length === 0
    ? emptyState("No users", q ? "No user matches." : "Nobody has signed up yet.")
    : table(
        "Users",
        ["Name", "Email", "Verified", "Joined", "Groups and role"],
        users.items.map(
          (
            u,
          ) => html`<tr><td>${u.displayName}</td><td>${u.email}</td><td>${u.emailVerified ? "Yes" : html`<span class="badge badge-warning">No</span>`}</td><td>${formatDate(u.createdAt)}</td>
<td>${postForm(
            `/admin/users/${u.id}`,
            ctx.csrfToken,
            html`<label class="visually-hidden" for="groups-${u.id}">Groups of ${u.email}</label><input id="groups-${u.id}" name="groups" value="${u.groups.join(", ")}" placeholder="groups, comma separated" class="input-small">
<span class="checkbox"><input type="checkbox" id="admin-${u.id}" name="isAdmin" value="yes"${u.isAdmin ? html` checked` : ""}><label for="admin-${u.id}">Admin</label></span>
<button type="submit" class="button button-secondary button-small">Save<span class="visually-hidden"> ${u.email}</span></button>`,
            { className: "inline-form user-form" },
          )}</td></tr>`,
        ),
      )
}${pagination(users, (p) => `/admin/users?page=${p}${q ? `&q=${encodeURIComponent(q)}` : ""}`)}`;
  return adminLayout(ctx, "Users", "Everyone with an account, and their portal groups.", body);
}

/** Every application. */
export function adminApplicationsPage(ctx: PageContext, apps: Page<AdminApplication>, q: string): SafeHtml {
  const body = html`<form class="filters" method="get" action="/admin/applications" role="search">
<div class="field grow"><label for="q">Search</label><input id="q" name="q" type="search" value="${q}" placeholder="Application name"></div>
<div class="field field-button"><button class="button button-primary" type="submit">Search</button></div>
</form>
${
  apps.items.length === 0
    ? emptyState("No applications", "No application matches.")
    : table(
        "Applications",
        ["Application", "Owner", "Type", "Client id", "Team"],
        apps.items.map(
          (a) =>
            html`<tr><td>${a.displayName} <span class="muted small">${a.name}</span></td><td>${a.owner}</td><td>${a.clientType}</td><td>${a.clientId ? html`<code>${a.clientId}</code>` : "–"}</td><td>${a.collaborators + 1}</td></tr>`,
        ),
      )
}${pagination(apps, (p) => `/admin/applications?page=${p}${q ? `&q=${encodeURIComponent(q)}` : ""}`)}`;
  return adminLayout(ctx, "Applications", "Every application registered on the portal.", body);
}

/** Every subscription. */
export function adminSubscriptionsPage(
  ctx: PageContext,
  subs: Page<AdminSubscription>,
  filters: { api: string; phase: string },
): SafeHtml {
  const phases = ["", "PendingApproval", "Provisioning", "Active", "Rejected", "Failed"];
  const body = html`<form class="filters" method="get" action="/admin/subscriptions" role="search">
<div class="field grow"><label for="api">API</label><input id="api" name="api" value="${filters.api}" placeholder="API name"></div>
<div class="field"><label for="phase">Status</label><select id="phase" name="phase">${phases.map(
    (p) => html`<option value="${p}"${filters.phase === p ? html` selected` : ""}>${p || "Any"}</option>`,
  )}</select></div>
<div class="field field-button"><button class="button button-primary" type="submit">Filter</button></div>
</form>
${
  subs.items.length === 0
    ? emptyState("No subscriptions", "No subscription matches.")
    : table(
        "Subscriptions",
        ["Application", "Owner", "API", "Plan", "Status"],
        subs.items.map(
          (s) =>
            html`<tr><td>${s.application}</td><td>${s.owner}</td><td>${s.api}</td><td>${s.plan}</td><td>${statusBadge(s.phase, s.approval)}</td></tr>`,
        ),
      )
}${pagination(subs, (p) => `/admin/subscriptions?page=${p}&api=${encodeURIComponent(filters.api)}&phase=${encodeURIComponent(filters.phase)}`)}`;
  return adminLayout(ctx, "Subscriptions", "Every subscription on the portal.", body);
}

/** The audit log's filters. */
export interface AuditFilters {
  actor: string;
  action: string;
  targetName: string;
}

/** The audit log with filters and CSV export. */
export function auditPage(ctx: PageContext, entries: Page<AuditEntry>, filters: AuditFilters): SafeHtml {
  const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v) as Array<[string, string]>);
  const csvHref = `/admin/audit.csv${params.toString() ? `?${params}` : ""}`;
  const body = html`<form class="filters" method="get" action="/admin/audit" role="search">
<div class="field"><label for="actor">Actor</label><input id="actor" name="actor" value="${filters.actor}" placeholder="User id"></div>
<div class="field"><label for="action">Action</label><input id="action" name="action" value="${filters.action}" placeholder="subscription. or user.update"></div>
<div class="field"><label for="targetName">Target</label><input id="targetName" name="targetName" value="${filters.targetName}"></div>
<div class="field field-button"><button class="button button-primary" type="submit">Filter</button></div>
</form>
${
  entries.items.length === 0
    ? emptyState("No entries", "No audit entry matches the filters.")
    : table(
        "Audit log",
        ["When", "Actor", "Action", "Target", "Details"],
        entries.items.map(
          (e) =>
            html`<tr><td class="nowrap">${formatDate(e.at)}</td><td><code class="small">${e.actor}</code></td><td>${e.action}</td><td>${e.targetKind} <span class="muted">${e.targetName}</span></td><td><code class="small">${JSON.stringify(e.details)}</code></td></tr>`,
        ),
      )
}${pagination(entries, (p) => `/admin/audit?page=${p}${params.toString() ? `&${params}` : ""}`)}`;
  return adminLayout(
    ctx,
    "Audit log",
    "Who did what, newest first.",
    body,
    html`<a class="button button-secondary" href="${csvHref}" download>Download CSV</a>`,
  );
}
