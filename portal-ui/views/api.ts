/** An Api's page: description, base URL and authentication, plans with limits, subscribing, the reference. */
import type { ApiProblem } from "../api-client.ts";
import type { ApiDetail, Application, Limits, PlanView } from "../api-types.ts";
import { html, type SafeHtml } from "../html.ts";
import { renderMarkdown } from "../markdown.ts";
import type { ApiReference, Json } from "../openapi/model.ts";
import { type ReferenceOptions, referenceView } from "../openapi/render.ts";
import { alert, authBadge, copyable, csrfField, problemAlert } from "./components.ts";
import type { PageContext } from "./context.ts";
import { layout } from "./layout.ts";

const PERIODS: Array<[keyof Limits, string]> = [
  ["second", "second"],
  ["minute", "minute"],
  ["hour", "hour"],
  ["day", "day"],
  ["month", "month"],
];

/** A plan's limits in words ("60 per minute, 10,000 per day"), or "No limits". */
export function limitsText(limits: Limits): string {
  const parts = PERIODS.flatMap(([key, label]) =>
    limits[key] !== undefined ? [`${Number(limits[key]).toLocaleString("en")} per ${label}`] : [],
  );
  return parts.length > 0 ? parts.join(", ") : "No rate limits";
}

function planCard(plan: PlanView, choice: { checked: boolean } | undefined): SafeHtml {
  const inner = html`<span class="plan-name">${plan.displayName}</span>
<span class="plan-limits">${limitsText(plan.limits)}</span>
${plan.requiresApproval ? html`<span class="badge badge-warning">Needs approval</span>` : html`<span class="badge badge-success">Instant</span>`}
${plan.description ? html`<span class="plan-desc">${plan.description}</span>` : ""}`;
  if (!choice) return html`<li class="plan">${inner}</li>`;
  return html`<li class="plan plan-choice"><input type="radio" name="plan" id="plan-${plan.name}" value="${plan.name}"${choice.checked ? html` checked` : ""} required><label for="plan-${plan.name}">${inner}</label></li>`;
}

/** What the subscribe box needs. */
export interface SubscribeBox {
  /** Applications the user may subscribe (undefined when not logged in). */
  applications?: Application[];
  /** Applications already subscribed to this Api. */
  subscribed: Set<string>;
  problem?: ApiProblem;
  values?: { application?: string; plan?: string };
}

function subscribeSection(ctx: PageContext, api: ApiDetail, box: SubscribeBox): SafeHtml {
  const plans = api.planDetails;
  if (api.auth === "none") {
    return html`<section class="card" aria-labelledby="plans"><h2 id="plans">Access</h2><p>This API is open: call it without credentials.</p></section>`;
  }
  if (api.deprecated) {
    return html`<section class="card" aria-labelledby="plans"><h2 id="plans">Plans</h2><ul class="plans">${plans.map((p) => planCard(p, undefined))}</ul><p class="muted">This API takes no new subscriptions.</p></section>`;
  }
  if (!box.applications) {
    return html`<section class="card" aria-labelledby="plans"><h2 id="plans">Plans</h2><ul class="plans">${plans.map((p) => planCard(p, undefined))}</ul>
<p><a class="button button-primary button-block" href="/login?returnTo=${encodeURIComponent(`/apis/${api.name}`)}">Log in to subscribe</a></p></section>`;
  }
  const available = box.applications.filter((a) => a.role !== "Reader" && !box.subscribed.has(a.name));
  if (available.length === 0) {
    return html`<section class="card" aria-labelledby="plans"><h2 id="plans">Plans</h2><ul class="plans">${plans.map((p) => planCard(p, undefined))}</ul>
${
  box.applications.length === 0
    ? html`<p>Register an application to subscribe.</p><p><a class="button button-primary button-block" href="/applications/new">Register an application</a></p>`
    : html`<p class="muted">All your applications are subscribed to this API. <a href="/applications">See them</a>.</p>`
}</section>`;
  }
  const chosenPlan = box.values?.plan ?? (plans.length === 1 ? plans[0]?.name : undefined);
  return html`<section class="card" aria-labelledby="plans"><h2 id="plans">Subscribe</h2>
${problemAlert(box.problem, "You are not subscribed")}
<form method="post" action="/subscriptions" class="stack">
${csrfField(ctx.csrfToken)}
<input type="hidden" name="api" value="${api.name}">
<div class="field"><label for="sub-app">Application</label><select id="sub-app" name="application" required>
${available.map((a) => html`<option value="${a.name}"${box.values?.application === a.name ? html` selected` : ""}>${a.displayName}</option>`)}
</select></div>
<fieldset class="field"><legend>Plan</legend><ul class="plans">${plans.map((p) => planCard(p, { checked: p.name === chosenPlan }))}</ul></fieldset>
<button type="submit" class="button button-primary button-block">Subscribe</button>
</form>
</section>`;
}

/** The Api's page. */
export function apiPage(
  ctx: PageContext,
  api: ApiDetail,
  box: SubscribeBox,
  reference: {
    reference?: ApiReference;
    doc?: Json;
    problem?: ApiProblem;
    options?: Omit<ReferenceOptions, "doc" | "apiName" | "csrfToken">;
  },
): SafeHtml {
  const deprecation = api.deprecated
    ? alert(
        "warning",
        html`${api.deprecation?.message ?? "This API is deprecated."}${api.deprecation?.sunset ? html` It will be switched off on ${api.deprecation.sunset}.` : ""}`,
        "Deprecated",
      )
    : "";
  const auth =
    api.auth === "key-auth"
      ? html`<p>Send your API key in a header with every request. You get a key by subscribing.</p>`
      : api.auth === "oauth2"
        ? html`<p>Send an OAuth 2.0 access token from the portal's auth server (${api.flows.join(", ").replaceAll("_", " ")}).</p>${
            api.scopes.length > 0
              ? html`<ul class="scopes">${api.scopes.map((s) => html`<li><code>${s.name}</code>${s.description ? html` — ${s.description}` : ""}</li>`)}</ul>`
              : ""
          }`
        : html`<p>No credentials needed.</p>`;
  let docs: SafeHtml;
  if (!api.hasOpenApi) {
    docs = html`<p class="muted">The API's team has not published an OpenAPI document.</p>`;
  } else if (reference.problem || !reference.reference || !reference.doc) {
    docs = alert(
      "error",
      reference.problem?.message ?? "The API reference cannot be shown right now.",
      "The API reference is not available",
    );
  } else {
    docs = referenceView(reference.reference, {
      apiName: api.name,
      doc: reference.doc,
      csrfToken: ctx.csrfToken,
      loggedIn: Boolean(ctx.user),
      credentials: reference.options?.credentials ?? [],
      ...(reference.options?.result ? { result: reference.options.result } : {}),
    });
  }
  const body = html`<div class="meta-row">${authBadge(api.auth)}${api.tags.map((t) => html`<a class="tag" href="/apis?tag=${encodeURIComponent(t)}">${t}</a>`)}</div>
${deprecation}
<div class="api-layout">
<div class="api-main">
<section class="card prose" aria-label="Description">${api.description ? renderMarkdown(api.description) : html`<p class="muted">No description yet.</p>`}</section>
<section class="card" aria-labelledby="reference"><h2 id="reference">API reference</h2>${
    api.hasOpenApi
      ? html`<p class="docs-cta"><a class="button button-primary" href="/apis/${api.name}/docs">Open the interactive docs</a><span class="muted">Swagger UI, calling ${api.baseUrl} with your credentials filled in.</span></p>`
      : ""
  }${docs}</section>
</div>
<aside class="api-side" aria-label="Using this API">
<section class="card" aria-labelledby="connect"><h2 id="connect">Connect</h2>
${copyable("base-url", "Base URL", api.baseUrl)}
${auth}
</section>
${subscribeSection(ctx, api, box)}
</aside>
</div>`;
  return layout(ctx, { title: api.displayName, crumbs: [["APIs", "/apis"]], body, wide: true });
}
