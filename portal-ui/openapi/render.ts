/**
 * The API reference as HTML: operations grouped by tag, each with its parameters, request body, responses
 * and a "try it" form that works without JavaScript; schemas as nested lists. Everything from the document
 * is escaped; descriptions are markdown through the sanitiser.
 */
import { html, join, type Renderable, type SafeHtml } from "../html.ts";
import { renderMarkdown } from "../markdown.ts";
import { csrfField } from "../views/components.ts";
import {
  type ApiReference,
  exampleFor,
  type Json,
  type Operation,
  type Parameter,
  refName,
  resolvePointer,
} from "./model.ts";
import type { TryItResult } from "./try-it.ts";

/** A credential the try-it form can use: one of the user's active subscriptions to the Api. */
export interface TryItCredential {
  subscription: string;
  label: string;
}

/** What the reference needs beyond the document. */
export interface ReferenceOptions {
  apiName: string;
  doc: Json;
  csrfToken: string;
  /** Whether the visitor is logged in (trying needs it). */
  loggedIn: boolean;
  credentials: TryItCredential[];
  /** The answer of the last try, shown under its operation. */
  result?: {
    operationId: string;
    result?: TryItResult;
    error?: string;
    values: Record<string, string | undefined>;
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short type label of a schema ("string (date-time)", "array of Pet"). */
export function typeLabel(schema: Json | undefined): string {
  if (!schema) return "any";
  if (typeof schema.$ref === "string") return refName(schema.$ref);
  const type = Array.isArray(schema.type)
    ? schema.type.join(" | ")
    : typeof schema.type === "string"
      ? schema.type
      : undefined;
  if (type === "array" && isObject(schema.items)) return `array of ${typeLabel(schema.items)}`;
  for (const key of ["oneOf", "anyOf", "allOf"] as const) {
    const parts = schema[key];
    if (Array.isArray(parts))
      return parts.map((p) => typeLabel(isObject(p) ? p : undefined)).join(key === "allOf" ? " & " : " | ");
  }
  const base = type ?? (isObject(schema.properties) ? "object" : "any");
  return typeof schema.format === "string" ? `${base} (${schema.format})` : base;
}

/** A schema as a nested list of its properties, following `$ref`s up to a depth. */
export function schemaView(
  doc: Json,
  schema: Json | undefined,
  depth = 0,
  seen: ReadonlySet<string> = new Set(),
): SafeHtml {
  if (!schema) return html``;
  let node: Json = schema;
  let refSeen = seen;
  if (typeof schema.$ref === "string") {
    if (seen.has(schema.$ref) || depth > 4)
      return html`<span class="schema-ref">${refName(schema.$ref)}</span>`;
    const target = resolvePointer(doc, schema.$ref);
    if (!isObject(target)) return html`<span class="schema-ref">${refName(schema.$ref)}</span>`;
    node = target;
    refSeen = new Set([...seen, schema.$ref]);
  }
  const facts: Renderable[] = [];
  if (Array.isArray(node.enum))
    facts.push(
      html`<span class="schema-enum">one of ${join(
        node.enum.map((v) => html`<code>${JSON.stringify(v)}</code>`),
        ", ",
      )}</span>`,
    );
  if (node.default !== undefined)
    facts.push(html`<span>default <code>${JSON.stringify(node.default)}</code></span>`);
  for (const [key, label] of [
    ["minimum", "min"],
    ["maximum", "max"],
    ["minLength", "min length"],
    ["maxLength", "max length"],
    ["pattern", "pattern"],
  ] as const) {
    if (node[key] !== undefined) facts.push(html`<span>${label} <code>${String(node[key])}</code></span>`);
  }
  const properties = isObject(node.properties) ? Object.entries(node.properties) : [];
  const required = new Set(Array.isArray(node.required) ? node.required.map(String) : []);
  const items = node.type === "array" && isObject(node.items) ? node.items : undefined;
  const composed = (["allOf", "oneOf", "anyOf"] as const).flatMap((key) =>
    Array.isArray(node[key]) ? [{ key, parts: (node[key] as unknown[]).filter(isObject) }] : [],
  );
  return html`${facts.length > 0 ? html`<p class="schema-facts">${join(facts, " · ")}</p>` : ""}${
    properties.length > 0
      ? html`<ul class="schema">${properties.map(([name, value]) => {
          const prop = isObject(value) ? value : {};
          const description = typeof prop.description === "string" ? prop.description : undefined;
          const nested =
            depth < 4 &&
            (isObject(prop.properties) ||
              typeof prop.$ref === "string" ||
              (prop.type === "array" && isObject(prop.items)));
          return html`<li><code class="prop">${name}</code> <span class="type">${typeLabel(prop)}</span>${
            required.has(name) ? html` <span class="required">required</span>` : ""
          }${description ? html`<div class="prop-doc">${description}</div>` : ""}${nested ? schemaView(doc, prop, depth + 1, refSeen) : ""}</li>`;
        })}</ul>`
      : ""
  }${items && depth < 4 ? html`<div class="schema-items"><span class="muted">Items:</span> ${schemaView(doc, items, depth + 1, refSeen)}</div>` : ""}${composed.map(
    (c) =>
      html`<div class="schema-composed"><span class="muted">${c.key === "allOf" ? "All of" : c.key === "oneOf" ? "One of" : "Any of"}:</span><ul class="schema">${c.parts.map(
        (p) =>
          html`<li><span class="type">${typeLabel(p)}</span>${depth < 4 ? schemaView(doc, p, depth + 1, refSeen) : ""}</li>`,
      )}</ul></div>`,
  )}`;
}

function parameterRows(params: Parameter[]): SafeHtml {
  return html`<div class="table-wrap" role="region" aria-label="Parameters" tabindex="0"><table class="params">
<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead>
<tbody>${params.map(
    (p) =>
      html`<tr><td><code>${p.name}</code>${p.required ? html` <span class="required">required</span>` : ""}</td><td>${p.in}</td><td>${typeLabel(p.schema)}</td><td>${p.description ?? ""}</td></tr>`,
  )}</tbody></table></div>`;
}

function statusClass(status: string | number | undefined): string {
  const s = String(status ?? "");
  if (s.startsWith("2")) return "ok";
  if (s.startsWith("3")) return "info";
  if (s.startsWith("4")) return "warn";
  return "bad";
}

function tryItForm(opts: ReferenceOptions, op: Operation, security: ApiReference["security"]): SafeHtml {
  if (!opts.loggedIn) {
    return html`<p class="muted"><a href="/login?returnTo=${encodeURIComponent(`/apis/${opts.apiName}#op-${op.id}`)}">Log in</a> to try this operation.</p>`;
  }
  const values = opts.result?.operationId === op.id ? opts.result.values : {};
  const inputs = op.parameters
    .filter((p) => p.in !== "cookie")
    .map((p) => {
      const id = `try-${op.id}-${p.in}-${p.name}`.replace(/[^A-Za-z0-9_-]/g, "-");
      const key = `p.${p.in}.${p.name}`;
      const example = p.example !== undefined ? String(p.example) : "";
      return html`<div class="field"><label for="${id}">${p.name} <span class="muted">(${p.in}${p.required ? ", required" : ""})</span></label><input id="${id}" name="${key}" value="${values[key] ?? example}"${p.required ? html` required` : ""}></div>`;
    });
  const bodyId = `try-${op.id}-body`;
  const example = op.requestBody
    ? (op.requestBody.example ?? exampleFor(opts.doc, op.requestBody.schema))
    : undefined;
  const bodyField = op.requestBody
    ? html`<div class="field"><label for="${bodyId}">Request body <span class="muted">(${op.requestBody.contentType})</span></label><textarea id="${bodyId}" name="body" rows="6" class="code" spellcheck="false">${
        values.body ?? (example === undefined ? "" : JSON.stringify(example, null, 2))
      }</textarea></div>`
    : "";
  const credId = `try-${op.id}-credential`;
  const secretId = `try-${op.id}-secret`;
  const auth =
    security.type === "none"
      ? ""
      : html`<div class="form-row">
<div class="field"><label for="${credId}">Credentials</label><select id="${credId}" name="credential">
${opts.credentials.map((c) => html`<option value="${c.subscription}"${values.credential === c.subscription ? html` selected` : ""}>${c.label}</option>`)}
<option value=""${values.credential === "" || opts.credentials.length === 0 ? html` selected` : ""}>Enter ${security.type === "apiKey" ? "a key" : "a token"} below</option>
</select></div>
<div class="field grow"><label for="${secretId}">${security.type === "apiKey" ? html`API key <span class="muted">(${security.header} header)</span>` : "Access token"}</label><input id="${secretId}" name="secret" type="password" autocomplete="off" spellcheck="false"></div>
</div>`;
  const result = opts.result?.operationId === op.id ? tryResult(opts.result.result, opts.result.error) : "";
  return html`<form method="post" action="/apis/${opts.apiName}/try#op-${op.id}" class="try-form stack">
${csrfField(opts.csrfToken)}<input type="hidden" name="operation" value="${op.id}">
${inputs}${bodyField}${auth}
<button type="submit" class="button button-primary">Send request</button>
</form>${result}`;
}

function tryResult(result: TryItResult | undefined, error: string | undefined): SafeHtml {
  if (error) return html`<div class="alert alert-error" role="alert"><p>${error}</p></div>`;
  if (!result) return html``;
  const request = html`<pre tabindex="0" class="code"><code>${result.request.method} ${result.request.url}
${Object.entries(result.request.headers).map(([k, v]) => `${k}: ${v}\n`)}</code></pre>`;
  if (result.error) {
    return html`<section class="try-result" aria-label="Response" role="status"><h4>Request</h4>${request}<div class="alert alert-error"><p>${result.error}</p></div></section>`;
  }
  return html`<section class="try-result" aria-label="Response" role="status">
<h4>Response <span class="status status-${statusClass(result.status)}">${result.status} ${result.statusText ?? ""}</span> <span class="muted">${result.durationMs} ms</span></h4>
${result.headers.length > 0 ? html`<pre tabindex="0" class="code"><code>${result.headers.map(([k, v]) => `${k}: ${v}\n`)}</code></pre>` : ""}
<pre tabindex="0" class="code response-body"><code>${result.body || "(empty body)"}</code></pre>${result.truncated ? html`<p class="muted">Only the first 64 KiB are shown.</p>` : ""}
<details><summary>Request sent</summary>${request}</details>
</section>`;
}

function operationView(opts: ReferenceOptions, op: Operation, reference: ApiReference): SafeHtml {
  const open = opts.result?.operationId === op.id;
  return html`<article class="operation" id="op-${op.id}">
<details${open ? html` open` : ""}>
<summary><span class="method method-${op.method.toLowerCase()}">${op.method}</span> <code class="path">${op.path}</code> <span class="op-summary">${op.summary ?? ""}</span>${
    op.deprecated ? html` <span class="badge badge-warning">Deprecated</span>` : ""
  }</summary>
<div class="operation-body">
${op.description ? html`<div class="prose">${renderMarkdown(op.description, 3)}</div>` : ""}
${op.parameters.length > 0 ? html`<h4>Parameters</h4>${parameterRows(op.parameters)}` : ""}
${
  op.requestBody
    ? html`<h4>Request body <span class="muted">${op.requestBody.contentType}${op.requestBody.required ? ", required" : ""}</span></h4>${
        op.requestBody.description ? html`<p>${op.requestBody.description}</p>` : ""
      }<p><span class="type">${typeLabel(op.requestBody.schema)}</span></p>${schemaView(opts.doc, op.requestBody.schema)}`
    : ""
}
${
  op.responses.length > 0
    ? html`<h4>Responses</h4><ul class="responses">${op.responses.map(
        (r) =>
          html`<li><span class="status status-${statusClass(r.status)}">${r.status}</span> ${r.description}${
            r.schema
              ? html` <span class="type">${typeLabel(r.schema)}</span>${schemaView(opts.doc, r.schema)}`
              : ""
          }</li>`,
      )}</ul>`
    : ""
}
<h4>Try it</h4>
${tryItForm(opts, op, reference.security)}
</div>
</details>
</article>`;
}

/** The whole reference. */
export function referenceView(reference: ApiReference, opts: ReferenceOptions): SafeHtml {
  return html`<div class="reference">
<div class="reference-head">
<p><strong>${reference.title}</strong>${reference.version ? html` <span class="badge badge-neutral">v${reference.version}</span>` : ""}</p>
${reference.server ? html`<p>Base URL <code>${reference.server}</code></p>` : ""}
<p>${
    reference.security.type === "apiKey"
      ? html`Authenticate with your API key in the <code>${reference.security.header}</code> header.`
      : reference.security.type === "oauth2"
        ? html`Authenticate with an OAuth 2.0 access token from <code>${reference.security.tokenUrl ?? "the portal's auth server"}</code> in the <code>Authorization: Bearer</code> header.`
        : "No authentication."
  }</p>
</div>
${reference.description ? html`<div class="prose">${renderMarkdown(reference.description, 2)}</div>` : ""}
${reference.groups.map(
  (g) =>
    html`<section class="op-group" aria-label="${g.tag}"><h3>${g.tag}</h3>${g.description ? html`<p class="muted">${g.description}</p>` : ""}${g.operations.map(
      (op) => operationView(opts, op, reference),
    )}</section>`,
)}
${
  reference.schemas.length > 0
    ? html`<section class="op-group" aria-label="Schemas"><h3>Schemas</h3>${reference.schemas.map(
        (s) =>
          html`<details class="schema-block" id="schema-${s.name.replace(/[^A-Za-z0-9_-]/g, "-")}"><summary><code>${s.name}</code> <span class="type">${typeLabel(s.schema)}</span></summary>${
            typeof s.schema.description === "string" ? html`<p>${s.schema.description}</p>` : ""
          }${schemaView(opts.doc, s.schema)}</details>`,
      )}</section>`
    : ""
}
</div>`;
}
