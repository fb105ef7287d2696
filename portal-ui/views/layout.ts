/**
 * The frame of every page: skip link, header with the portal's branding and navigation, the main landmark,
 * the flash message, and the footer with the content pages. The stylesheet, the theme (the portal's primary
 * colour) and the one script are external files, so the Content-Security-Policy needs no inline code.
 */
import { html, type Renderable, type SafeHtml, safeUrl } from "../html.ts";
import { alert, csrfField } from "./components.ts";
import type { PageContext } from "./context.ts";

/** Options of a page. */
export interface PageOptions {
  title: string;
  body: Renderable;
  /** Breadcrumbs above the title, as [label, href] pairs. */
  crumbs?: Array<[string, string]>;
  /** A wider main column (tables, API reference). */
  wide?: boolean;
  /** Leave out the page heading (the home page has its own hero). */
  bare?: boolean;
  /** Short text under the heading. */
  lead?: Renderable;
  /** Buttons beside the heading. */
  actions?: Renderable;
  /** Extra stylesheets of the page, as paths under /assets/ (the interactive docs' Swagger UI). */
  styles?: string[];
  /** Extra scripts of the page, as paths under /assets/, loaded deferred in this order. */
  scripts?: string[];
}

function navLink(ctx: PageContext, href: string, label: string, match: (path: string) => boolean): SafeHtml {
  const current = match(ctx.path);
  return html`<li><a href="${href}"${current ? html` aria-current="page"` : ""}>${label}</a></li>`;
}

function header(ctx: PageContext): SafeHtml {
  const { config, user } = ctx;
  const brand = config.branding;
  const title = config.displayName;
  const logo = brand.logoUrl
    ? html`<img src="${safeUrl(brand.logoUrl)}" alt="" class="logo-img" width="32" height="32">`
    : html`<span class="logo-mark" aria-hidden="true">${title.slice(0, 1).toUpperCase()}</span>`;
  const pages = config.contentPages.slice(0, 3);
  const canSignUp = config.login.local.enabled && config.login.local.allowSignup;
  const account = user
    ? html`<div class="account-menu">
<a class="account-link" href="/account"${ctx.path === "/account" ? html` aria-current="page"` : ""}><span class="avatar" aria-hidden="true">${initials(user.name)}</span><span class="account-name">${user.name}</span></a>
<form method="post" action="/logout" class="inline-form">${csrfField(ctx.csrfToken)}<button type="submit" class="button button-ghost">Log out</button></form>
</div>`
    : html`<div class="account-menu">
<a class="button button-ghost" href="/login">Log in</a>
${canSignUp ? html`<a class="button button-primary" href="/signup">Sign up</a>` : ""}
</div>`;
  return html`<header class="site-header">
<div class="header-inner">
<a class="brand" href="/">${logo}<span class="brand-name">${title}</span></a>
<nav class="main-nav" aria-label="Main">
<ul>
${navLink(ctx, "/apis", "APIs", (p) => p.startsWith("/apis"))}
${user ? navLink(ctx, "/applications", "Applications", (p) => p.startsWith("/applications") || p.startsWith("/subscriptions")) : ""}
${user?.approver || user?.admin ? navLink(ctx, "/approvals", "Approvals", (p) => p.startsWith("/approvals")) : ""}
${user?.admin ? navLink(ctx, "/admin", "Admin", (p) => p.startsWith("/admin")) : ""}
${pages.map((p) => navLink(ctx, `/pages/${p.slug}`, p.title, (path) => path === `/pages/${p.slug}`))}
</ul>
</nav>
${account}
</div>
</header>`;
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters =
    parts.length > 1 ? `${parts[0]?.[0] ?? ""}${parts.at(-1)?.[0] ?? ""}` : (parts[0] ?? "?").slice(0, 2);
  return letters.toUpperCase();
}

function footer(ctx: PageContext): SafeHtml {
  const { config } = ctx;
  return html`<footer class="site-footer">
<div class="footer-inner">
<p>${config.branding.footer ?? `© ${config.displayName}`}</p>
${
  config.contentPages.length > 0
    ? html`<nav aria-label="Pages"><ul>${config.contentPages.map((p) => html`<li><a href="/pages/${p.slug}">${p.title}</a></li>`)}</ul></nav>`
    : ""
}
</div>
</footer>`;
}

/** A whole page. */
export function layout(ctx: PageContext, page: PageOptions): SafeHtml {
  const { config } = ctx;
  const crumbs = page.crumbs?.length
    ? html`<nav class="crumbs" aria-label="Breadcrumb"><ol>${page.crumbs.map(
        ([label, href]) => html`<li><a href="${href}">${label}</a></li>`,
      )}<li aria-current="page">${page.title}</li></ol></nav>`
    : "";
  const heading = page.bare
    ? ""
    : html`${crumbs}<div class="page-head"><div><h1>${page.title}</h1>${page.lead ? html`<p class="lead">${page.lead}</p>` : ""}</div>${
        page.actions ? html`<div class="page-actions">${page.actions}</div>` : ""
      }</div>`;
  const flash = ctx.flash ? alert(ctx.flash.kind, ctx.flash.text) : "";
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · ${config.displayName}</title>
<meta name="color-scheme" content="light dark">
<link rel="stylesheet" href="/assets/portal.css?v=${ctx.assetVersion}">
<link rel="stylesheet" href="/assets/theme.css?v=${ctx.assetVersion}">
${(page.styles ?? []).map((path) => html`<link rel="stylesheet" href="/assets/${path}?v=${ctx.assetVersion}">`)}
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<script src="/assets/portal.js?v=${ctx.assetVersion}" defer></script>
${(page.scripts ?? []).map((path) => html`<script src="/assets/${path}?v=${ctx.assetVersion}" defer></script>`)}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
${header(ctx)}
<main id="main" tabindex="-1" class="${page.wide ? "main wide" : "main"}">
${flash}
${heading}
${page.body}
</main>
${footer(ctx)}
</body>
</html>`;
}
