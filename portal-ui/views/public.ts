/** The public pages: home, content pages, the API catalog and error pages. */
import type { ApiProblem } from "../api-client.ts";
import type { ApiSummary, Page } from "../api-types.ts";
import { html, type SafeHtml } from "../html.ts";
import { markdownSummary, renderMarkdown } from "../markdown.ts";
import { authBadge, count, emptyState, pagination } from "./components.ts";
import type { PageContext } from "./context.ts";
import { layout } from "./layout.ts";

/** A card of an Api in a grid. */
export function apiCard(api: ApiSummary): SafeHtml {
  const summary = markdownSummary(api.description) || "No description yet.";
  return html`<li class="card api-card">
<h3 class="card-title"><a href="/apis/${api.name}">${api.displayName}</a></h3>
<p class="card-text">${summary}</p>
<p class="card-meta">${authBadge(api.auth)}${api.deprecated ? html`<span class="badge badge-warning">Deprecated</span>` : ""}${api.tags.map(
    (t) => html`<span class="tag">${t}</span>`,
  )}</p>
</li>`;
}

/** The home page. */
export function homePage(
  ctx: PageContext,
  apis: Page<ApiSummary> | undefined,
  problem?: ApiProblem,
): SafeHtml {
  const { config, user } = ctx;
  const title = config.branding.title ?? config.displayName;
  const canSignUp = config.login.local.enabled && config.login.local.allowSignup;
  const cta = user
    ? html`<a class="button button-primary button-large" href="/applications">Your applications</a>
<a class="button button-secondary button-large" href="/apis">Browse APIs</a>`
    : html`<a class="button button-primary button-large" href="/apis">Browse APIs</a>
${canSignUp ? html`<a class="button button-secondary button-large" href="/signup">Create an account</a>` : html`<a class="button button-secondary button-large" href="/login">Log in</a>`}`;
  const featured = apis?.items.slice(0, 6) ?? [];
  const body = html`<section class="hero">
<div class="hero-inner">
<p class="eyebrow">${config.displayName}</p>
<h1>${title}</h1>
<p class="hero-lead">Discover our APIs, register your application, and get credentials in minutes.</p>
<form class="search hero-search" method="get" action="/apis" role="search">
<label class="visually-hidden" for="hero-q">Search APIs</label>
<input id="hero-q" class="hero-input" name="q" type="search" placeholder="Search APIs by name or description">
<button type="submit" class="button button-primary">Search</button>
</form>
<div class="hero-actions">${cta}</div>
</div>
</section>
<section class="section" aria-labelledby="how">
<h2 id="how">How it works</h2>
<ol class="steps">
<li class="step"><span class="step-no" aria-hidden="true">1</span><h3>Find an API</h3><p>Browse the catalog, read the documentation and try requests.</p></li>
<li class="step"><span class="step-no" aria-hidden="true">2</span><h3>Register an application</h3><p>An application holds your credentials and your team.</p></li>
<li class="step"><span class="step-no" aria-hidden="true">3</span><h3>Subscribe to a plan</h3><p>Pick the limits you need; some plans are approved by the API's team.</p></li>
<li class="step"><span class="step-no" aria-hidden="true">4</span><h3>Call the API</h3><p>Use your key or OAuth 2.0 client through the gateway.</p></li>
</ol>
</section>
<section class="section" aria-labelledby="featured">
<div class="section-head"><h2 id="featured">APIs</h2>${apis && apis.total > featured.length ? html`<a href="/apis">All ${count(apis.total, "API")} →</a>` : ""}</div>
${
  problem
    ? html`<p class="muted">The catalog cannot be shown right now: ${problem.message}</p>`
    : featured.length === 0
      ? emptyState("No APIs yet", "APIs appear here once their teams publish them.")
      : html`<ul class="card-grid">${featured.map(apiCard)}</ul>`
}
</section>
${
  config.contentPages.length > 0
    ? html`<section class="section" aria-labelledby="guides"><h2 id="guides">Guides</h2><ul class="link-list">${config.contentPages.map(
        (p) => html`<li><a href="/pages/${p.slug}">${p.title}</a></li>`,
      )}</ul></section>`
    : ""
}`;
  return layout(ctx, { title, body, bare: true, wide: true });
}

/** A content page of the ApiPortal. */
export function contentPage(ctx: PageContext, title: string, markdown: string | undefined): SafeHtml {
  const body = markdown
    ? html`<article class="prose card">${renderMarkdown(markdown)}</article>`
    : emptyState(
        "This page is not available yet",
        "Its content is kept in a ConfigMap the portal cannot read yet.",
      );
  return layout(ctx, { title, body, crumbs: [["Home", "/"]] });
}

/** The catalog's filters as the request had them. */
export interface CatalogFilters {
  q?: string;
  tag?: string;
  auth?: string;
  page: number;
}

function catalogHref(filters: CatalogFilters, page: number): string {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.tag) params.set("tag", filters.tag);
  if (filters.auth) params.set("auth", filters.auth);
  if (page > 1) params.set("page", String(page));
  const text = params.toString();
  return text ? `/apis?${text}` : "/apis";
}

/** The API catalog with search, tag and authentication filters. */
export function catalogPage(
  ctx: PageContext,
  filters: CatalogFilters,
  apis: Page<ApiSummary> | undefined,
  tags: string[],
  problem?: ApiProblem,
): SafeHtml {
  const tagLinks = tags.map(
    (t) =>
      html`<li><a class="chip" href="${catalogHref({ ...filters, tag: filters.tag === t ? undefined : t, page: 1 }, 1)}"${
        filters.tag === t ? html` aria-current="true"` : ""
      }>${t}</a></li>`,
  );
  const results = problem
    ? html`<div class="alert alert-error" role="alert"><p>${problem.message}</p></div>`
    : !apis || apis.items.length === 0
      ? emptyState(
          "No APIs match",
          filters.q || filters.tag || filters.auth
            ? "Try other words or clear the filters."
            : "No APIs are published yet.",
          filters.q || filters.tag || filters.auth ? html`<a href="/apis">Clear the filters</a>` : "",
        )
      : html`<p class="muted" role="status">${count(apis.total, "API")}${filters.q ? html` for “${filters.q}”` : ""}${
          filters.tag ? html` tagged ${filters.tag}` : ""
        }</p>
<ul class="card-grid">${apis.items.map(apiCard)}</ul>
${pagination(apis, (p) => catalogHref(filters, p))}`;
  const body = html`<form class="filters" method="get" action="/apis" role="search">
<div class="field grow"><label for="q">Search</label><input id="q" name="q" type="search" value="${filters.q ?? ""}" placeholder="Name or description"></div>
<div class="field"><label for="auth">Authentication</label><select id="auth" name="auth">
<option value="">Any</option>
${[
  ["key-auth", "API key"],
  ["oauth2", "OAuth 2.0"],
  ["none", "Open"],
].map(
  ([value, label]) =>
    html`<option value="${value}"${filters.auth === value ? html` selected` : ""}>${label}</option>`,
)}
</select></div>
${filters.tag ? html`<input type="hidden" name="tag" value="${filters.tag}">` : ""}
<div class="field field-button"><button type="submit" class="button button-primary">Search</button></div>
</form>
${tags.length > 0 ? html`<nav aria-label="Tags"><ul class="chips">${tagLinks}</ul></nav>` : ""}
${results}`;
  return layout(ctx, {
    title: "APIs",
    lead: "Everything you can build with. Pick an API to read its documentation and subscribe.",
    body,
    wide: true,
  });
}

/** An error page: what happened and what to do. */
export function errorPage(
  ctx: PageContext,
  status: number,
  title: string,
  message: string,
  action?: SafeHtml,
): SafeHtml {
  const body = html`<div class="card error-card">
<p class="error-code">${status}</p>
<p>${message}</p>
<p class="actions">${action ?? html`<a class="button button-primary" href="/">Go to the home page</a>`}</p>
</div>`;
  return layout(ctx, { title, body });
}
