/** The developer's pages: applications, their collaborators and subscriptions, credentials. */
import type { ApiProblem } from "../api-client.ts";
import type { Application, ApplicationRole, Credentials, Page, Subscription } from "../api-types.ts";
import { html, type SafeHtml } from "../html.ts";
import {
  alert,
  copyable,
  emptyState,
  field,
  formatDate,
  pagination,
  postForm,
  problemAlert,
  select,
  statusBadge,
  textarea,
} from "./components.ts";
import type { PageContext } from "./context.ts";
import { layout } from "./layout.ts";

const ROLE_HELP: Record<ApplicationRole, string> = {
  Owner: "manages the application and its team",
  Collaborator: "subscribes and reads credentials",
  Reader: "sees the application",
};

/** The user's applications. */
export function applicationsPage(
  ctx: PageContext,
  apps: Page<Application>,
  subscriptions: Subscription[],
  apiNames?: Map<string, string>,
): SafeHtml {
  const byApp = new Map<string, Subscription[]>();
  for (const s of subscriptions) byApp.set(s.application, [...(byApp.get(s.application) ?? []), s]);
  const body =
    apps.items.length === 0
      ? emptyState(
          "No applications yet",
          "An application holds the credentials your software uses to call APIs. Register one to subscribe to an API.",
          html`<a class="button button-primary" href="/applications/new">Register an application</a>`,
        )
      : html`<ul class="card-grid">${apps.items.map((app) => {
          const subs = byApp.get(app.name) ?? [];
          return html`<li class="card app-card">
<h2 class="card-title"><a href="/applications/${app.name}">${app.displayName}</a></h2>
${app.description ? html`<p class="card-text">${app.description}</p>` : ""}
<p class="card-meta"><span class="badge badge-neutral">${app.role}</span><span class="badge badge-neutral">${app.clientType}</span></p>
${
  subs.length > 0
    ? html`<ul class="mini-list">${subs.map((s) => html`<li><a href="/subscriptions/${s.name}">${apiNames?.get(s.api) ?? s.api}</a> ${statusBadge(s.phase, s.approval)}</li>`)}</ul>`
    : html`<p class="muted">No subscriptions yet.</p>`
}
</li>`;
        })}</ul>
${pagination(apps, (p) => `/applications?page=${p}`)}`;
  return layout(ctx, {
    title: "Your applications",
    lead: "Applications you own or work on, with their subscriptions.",
    actions:
      apps.items.length > 0
        ? html`<a class="button button-primary" href="/applications/new">Register an application</a>`
        : "",
    body,
    wide: true,
  });
}

/** Values of the application form. */
export interface ApplicationFormValues {
  displayName?: string;
  description?: string;
  clientType?: string;
  redirectUris?: string;
}

function redirectField(value: string | undefined, problem: ApiProblem | undefined): SafeHtml {
  const error = problem?.errors
    .filter((e) => e.path?.includes("redirectUris"))
    .map((e) => e.message)
    .join(" ");
  return textarea({
    name: "redirectUris",
    label: "Redirect URIs",
    value,
    rows: 3,
    hint: "One per line, for the OAuth 2.0 authorization code flow: https, or http on localhost. Matched exactly.",
    error: error || undefined,
  });
}

/** The form that registers an application. */
export function newApplicationPage(
  ctx: PageContext,
  values: ApplicationFormValues = {},
  problem?: ApiProblem,
): SafeHtml {
  const type = values.clientType ?? "confidential";
  const body = html`<div class="narrow card">
${problemAlert(problem, "The application was not registered")}
${postForm(
  "/applications",
  ctx.csrfToken,
  html`${field({ name: "displayName", label: "Name", value: values.displayName, required: true, maxlength: 100, hint: "Shown to you, your team and the API teams who approve subscriptions." })}
${textarea({ name: "description", label: "Description", value: values.description, maxlength: 2000, rows: 3 })}
<fieldset class="field">
<legend>Type</legend>
<div class="radio"><input type="radio" id="type-confidential" name="clientType" value="confidential"${type === "confidential" ? html` checked` : ""}><label for="type-confidential"><strong>Server-side</strong> <span class="muted">— keeps a secret safe (back ends, scripts)</span></label></div>
<div class="radio"><input type="radio" id="type-public" name="clientType" value="public"${type === "public" ? html` checked` : ""}><label for="type-public"><strong>Browser or mobile</strong> <span class="muted">— cannot keep a secret; uses PKCE</span></label></div>
</fieldset>
${redirectField(values.redirectUris, problem)}
<button type="submit" class="button button-primary">Register application</button>`,
  { className: "stack" },
)}
</div>`;
  return layout(ctx, { title: "Register an application", crumbs: [["Applications", "/applications"]], body });
}

/** Values of the collaborator form. */
export interface CollaboratorValues {
  user?: string;
  role?: string;
}

/** An application with its subscriptions, settings, team and deletion. */
export function applicationPage(
  ctx: PageContext,
  app: Application,
  subscriptions: Subscription[],
  opts: {
    problem?: ApiProblem;
    values?: ApplicationFormValues;
    collaborator?: CollaboratorValues;
    section?: string;
    /** Display names of Apis by name. */
    apiNames?: Map<string, string>;
  } = {},
): SafeHtml {
  const owner = app.role === "Owner";
  const canSubscribe = app.role !== "Reader";
  const subs =
    subscriptions.length === 0
      ? emptyState(
          "No subscriptions yet",
          "Subscribe this application to an API to get credentials for it.",
          canSubscribe ? html`<a class="button button-primary" href="/apis">Find an API</a>` : "",
        )
      : html`<div class="table-wrap" role="region" aria-label="Subscriptions" tabindex="0"><table>
<caption class="visually-hidden">Subscriptions of ${app.displayName}</caption>
<thead><tr><th scope="col">API</th><th scope="col">Plan</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${subscriptions.map(
          (s) => html`<tr>
<td><a href="/apis/${s.api}">${opts.apiNames?.get(s.api) ?? s.api}</a></td>
<td>${s.plan}</td>
<td>${statusBadge(s.phase, s.approval)}</td>
<td class="actions"><a href="/subscriptions/${s.name}">${s.phase === "Active" ? "Credentials" : "Details"}</a></td>
</tr>`,
        )}</tbody></table></div>`;
  const values = opts.values ?? {
    displayName: app.displayName,
    description: app.description,
    redirectUris: app.redirectUris.join("\n"),
  };
  const settingsProblem = opts.section === "settings" ? opts.problem : undefined;
  const teamProblem = opts.section === "team" ? opts.problem : undefined;
  const settings = owner
    ? html`<section class="card" aria-labelledby="settings">
<h2 id="settings">Settings</h2>
${problemAlert(settingsProblem, "The changes were not saved")}
${postForm(
  `/applications/${app.name}/edit`,
  ctx.csrfToken,
  html`${field({ name: "displayName", label: "Name", value: values.displayName, required: true, maxlength: 100 })}
${textarea({ name: "description", label: "Description", value: values.description, maxlength: 2000, rows: 3 })}
${redirectField(values.redirectUris, settingsProblem)}
<button type="submit" class="button button-primary">Save changes</button>`,
  { className: "stack" },
)}
</section>`
    : "";
  const team = html`<section class="card" aria-labelledby="team">
<h2 id="team">Team</h2>
${problemAlert(teamProblem, "The team was not changed")}
<div class="table-wrap" role="region" aria-label="Team" tabindex="0"><table>
<caption class="visually-hidden">People with access to ${app.displayName}</caption>
<thead><tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
<tr><td>${app.owner}</td><td>Owner <span class="muted">— ${ROLE_HELP.Owner}</span></td><td></td></tr>
${app.collaborators.map(
  (c) =>
    html`<tr><td>${c.user}</td><td>${c.role} <span class="muted">— ${ROLE_HELP[c.role]}</span></td><td class="actions">${
      owner
        ? postForm(
            `/applications/${app.name}/collaborators/remove`,
            ctx.csrfToken,
            html`<input type="hidden" name="user" value="${c.user}"><button type="submit" class="button button-link">Remove<span class="visually-hidden"> ${c.user}</span></button>`,
            { className: "inline-form", confirm: `Remove ${c.user} from ${app.displayName}?` },
          )
        : ""
    }</td></tr>`,
)}
</tbody></table></div>
${
  owner
    ? postForm(
        `/applications/${app.name}/collaborators`,
        ctx.csrfToken,
        html`<h3>Add a person</h3>
<div class="form-row">
${field({ name: "user", label: "Email address", type: "email", required: true, value: opts.collaborator?.user, id: "collaborator-user" })}
${select({
  name: "role",
  id: "collaborator-role",
  label: "Role",
  value: opts.collaborator?.role ?? "Collaborator",
  options: [
    { value: "Collaborator", label: "Collaborator" },
    { value: "Reader", label: "Reader" },
    { value: "Owner", label: "Owner" },
  ],
})}
<div class="field field-button"><button type="submit" class="button button-secondary">Add</button></div>
</div>`,
        { className: "stack" },
      )
    : ""
}
</section>`;
  const danger = owner
    ? html`<section class="card danger-zone" aria-labelledby="danger">
<h2 id="danger">Delete this application</h2>
<p>Deleting ${app.displayName} ends its subscriptions; its credentials stop working at once.</p>
${postForm(
  `/applications/${app.name}/delete`,
  ctx.csrfToken,
  html`<div class="checkbox"><input type="checkbox" id="confirm-delete" name="confirm" value="yes" required><label for="confirm-delete">I understand that this cannot be undone</label></div>
<button type="submit" class="button button-danger">Delete application</button>`,
  { className: "stack", confirm: `Delete ${app.displayName} and all its subscriptions?` },
)}
</section>`
    : "";
  const body = html`<div class="meta-row">
<span class="badge badge-neutral">Your role: ${app.role}</span>
<span class="badge badge-neutral">${app.clientType === "public" ? "Browser or mobile" : "Server-side"}</span>
${app.clientId ? html`<span class="muted">Client id <code>${app.clientId}</code></span>` : ""}
</div>
${app.description ? html`<p>${app.description}</p>` : ""}
<section class="card" aria-labelledby="subs">
<div class="section-head"><h2 id="subs">Subscriptions</h2>${canSubscribe && subscriptions.length > 0 ? html`<a href="/apis">Subscribe to another API →</a>` : ""}</div>
${subs}
</section>
${settings}
${team}
${danger}`;
  return layout(ctx, {
    title: app.displayName,
    crumbs: [["Applications", "/applications"]],
    body,
    wide: true,
  });
}

const PHASE_TEXT: Record<string, string> = {
  PendingApproval:
    "The API's team approves subscriptions to this plan. You get a message when they decide; the credentials appear here then.",
  Pending: "The subscription is being set up; this takes a few seconds.",
  Provisioning: "The gateway is being configured for your credentials; this takes a few seconds.",
  Active: "Your credentials work at the gateway.",
  Rejected: "The API's team rejected this subscription.",
  Failed: "The subscription could not be set up. The portal's operators have been told; try again later.",
};

/** A subscription: its state, and its credentials once issued. */
export function subscriptionPage(
  ctx: PageContext,
  sub: Subscription,
  opts: {
    credentials?: Credentials;
    problem?: ApiProblem;
    canManage: boolean;
    /** Display names of the application and the Api, when known. */
    names?: { application?: string; api?: string };
  },
): SafeHtml {
  const appName = opts.names?.application ?? sub.application;
  const apiName = opts.names?.api ?? sub.api;
  const creds = opts.credentials;
  const active = sub.phase === "Active" && sub.credentialsReady;
  let credentialSection: SafeHtml | "" = "";
  if (creds) {
    const apiUrl = creds.apiUrl ?? "";
    const example =
      creds.type === "key-auth"
        ? `curl -H "${creds.keyHeader ?? "X-Api-Key"}: ${creds.apiKey ?? ""}" ${apiUrl}/`
        : `curl -u "${creds.clientId ?? ""}:${creds.clientSecret ?? "<secret>"}" -d grant_type=client_credentials ${creds.tokenUrl ?? ""}`;
    credentialSection = html`<section class="card" aria-labelledby="credentials">
<h2 id="credentials">Credentials</h2>
${alert("warning", "Keep these secret: anyone with them can call the API as your application. Do not commit them to source control.")}
${
  creds.type === "key-auth"
    ? html`${copyable("api-key", "API key", creds.apiKey ?? "", { secret: true })}
<p class="hint" id="key-header">Send it in the <code>${creds.keyHeader ?? "X-Api-Key"}</code> header.</p>`
    : html`${copyable("client-id", "Client id", creds.clientId ?? "")}
${creds.clientSecret ? copyable("client-secret", "Client secret", creds.clientSecret, { secret: true }) : ""}
${creds.tokenUrl ? copyable("token-url", "Token URL", creds.tokenUrl) : ""}`
}
${apiUrl ? copyable("api-url", "API URL", apiUrl) : ""}
${copyable("example", "Example request", example)}
${creds.issuedAt ? html`<p class="muted">Issued ${formatDate(creds.issuedAt)}</p>` : ""}
</section>`;
  } else if (active) {
    credentialSection = html`<section class="card" aria-labelledby="credentials">
<h2 id="credentials">Credentials</h2>
<p>Your credentials are ready. Showing them is recorded in the audit log.</p>
<form method="get" action="/subscriptions/${sub.name}"><input type="hidden" name="show" value="credentials"><button type="submit" class="button button-primary">Show credentials</button></form>
</section>`;
  }
  const manage = opts.canManage
    ? html`<section class="card" aria-labelledby="manage">
<h2 id="manage">Manage</h2>
<div class="button-row">
${
  active
    ? postForm(
        `/subscriptions/${sub.name}/rotate`,
        ctx.csrfToken,
        html`<button type="submit" class="button button-secondary">Rotate credentials</button>`,
        { className: "inline-form", confirm: "Issue new credentials? The current ones stop working." },
      )
    : ""
}
${postForm(
  `/subscriptions/${sub.name}/delete`,
  ctx.csrfToken,
  html`<button type="submit" class="button button-danger">Unsubscribe</button>`,
  { className: "inline-form", confirm: "Unsubscribe? The credentials stop working at once." },
)}
</div>
</section>`
    : "";
  const body = html`${problemAlert(opts.problem)}
<section class="card status-card" aria-labelledby="status">
<h2 id="status">Status</h2>
<p class="status-line">${statusBadge(sub.phase, sub.approval)}</p>
<p>${PHASE_TEXT[sub.phase] ?? ""}${sub.approvalReason ? html` <q>${sub.approvalReason}</q>` : ""}</p>
<dl class="facts">
<div><dt>Application</dt><dd><a href="/applications/${sub.application}">${appName}</a></dd></div>
<div><dt>API</dt><dd><a href="/apis/${sub.api}">${apiName}</a></dd></div>
<div><dt>Plan</dt><dd>${sub.plan}</dd></div>
</dl>
${sub.phase === "Pending" || sub.phase === "Provisioning" ? html`<p><a href="/subscriptions/${sub.name}">Refresh</a></p>` : ""}
</section>
${credentialSection}
${manage}`;
  return layout(ctx, {
    title: `${apiName} for ${appName}`,
    crumbs: [
      ["Applications", "/applications"],
      [appName, `/applications/${sub.application}`],
    ],
    body,
  });
}
