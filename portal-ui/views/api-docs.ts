/**
 * An Api's interactive docs: Swagger UI (served from /assets/swagger-ui/) mounted by assets/api-docs.js, which
 * fetches the rewritten OpenAPI document and the visitor's credentials from /apis/:name/docs.json. The page
 * itself carries no script and no credential; without JavaScript it points to the server-rendered reference.
 */
import type { ApiDetail } from "../api-types.ts";
import { html, type SafeHtml } from "../html.ts";
import { alert } from "./components.ts";
import type { PageContext } from "./context.ts";
import { layout } from "./layout.ts";

/** What the page says about the credentials "Try it out" uses. */
export type DocsCredentialNote =
  | { kind: "filled"; application: string }
  | { kind: "log-in" }
  | { kind: "subscribe" }
  | { kind: "open" };

function credentialNote(api: ApiDetail, note: DocsCredentialNote): SafeHtml {
  const reference = `/apis/${api.name}`;
  switch (note.kind) {
    case "filled":
      return api.auth === "oauth2"
        ? html`<p>The client id of <strong>${note.application}</strong> is filled in under <em>Authorize</em>; paste its client secret from the <a href="/applications">application's credentials</a> to get a token.</p>`
        : html`<p>The API key of <strong>${note.application}</strong> is filled in: open an operation, choose <em>Try it out</em>, then <em>Execute</em>.</p>`;
    case "log-in":
      return html`<p><a href="/login?returnTo=${encodeURIComponent(`${reference}/docs`)}">Log in</a> and subscribe to have your credentials filled in, or paste them under <em>Authorize</em>.</p>`;
    case "subscribe":
      return html`<p>You have no active subscription to this API yet: <a href="${reference}#plans">subscribe</a> to have your credentials filled in, or paste them under <em>Authorize</em>.</p>`;
    case "open":
      return html`<p>This API needs no credentials: open an operation, choose <em>Try it out</em>, then <em>Execute</em>.</p>`;
  }
}

/** The interactive docs page of an Api. */
export function apiDocsPage(ctx: PageContext, api: ApiDetail, note: DocsCredentialNote): SafeHtml {
  const reference = `/apis/${api.name}`;
  const body = api.hasOpenApi
    ? html`<section class="card docs-intro" aria-label="About these docs">
<p>Requests from this page go from your browser to <code>${api.baseUrl}</code>.</p>
${credentialNote(api, note)}
<noscript>${alert("info", html`The interactive docs need JavaScript. The <a href="${reference}#reference">API reference</a> works without it, and can send requests too.`, "JavaScript is off")}</noscript>
</section>
<p class="muted docs-status" id="api-docs-status" role="status">Loading the interactive docs…</p>
<section class="swagger-host" aria-label="Interactive API docs">
<div id="swagger-ui" data-config="${reference}/docs.json"></div>
</section>`
    : html`<section class="card"><p class="muted">The API's team has not published an OpenAPI document.</p><p><a href="${reference}">Back to ${api.displayName}</a></p></section>`;
  return layout(ctx, {
    title: `${api.displayName} interactive docs`,
    crumbs: [
      ["APIs", "/apis"],
      [api.displayName, reference],
    ],
    lead: "Read the operations and call the API from your browser.",
    actions: html`<a class="button button-secondary" href="${reference}#reference">Reference without JavaScript</a>`,
    body,
    wide: true,
    ...(api.hasOpenApi
      ? { styles: ["swagger-ui/swagger-ui.css"], scripts: ["swagger-ui/swagger-ui-bundle.js", "api-docs.js"] }
      : {}),
  });
}
