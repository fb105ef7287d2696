/**
 * Small building blocks of the pages: form fields with labels and errors, the CSRF field, alerts, badges,
 * pagination, empty states. Every one escapes what it is given (through `html`).
 */
import type { ApiProblem } from "../api-client.ts";
import { html, type Renderable, type SafeHtml } from "../html.ts";

/** The hidden field every form posts for CSRF protection. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** A form posting to `action` with the CSRF field. */
export function postForm(
  action: string,
  token: string,
  body: Renderable,
  opts: { className?: string; confirm?: string; label?: string } = {},
): SafeHtml {
  return html`<form method="post" action="${action}" class="${opts.className ?? ""}"${
    opts.confirm ? html` data-confirm="${opts.confirm}"` : ""
  }${opts.label ? html` aria-label="${opts.label}"` : ""}>${csrfField(token)}${body}</form>`;
}

/** Options of a text field. */
export interface FieldOptions {
  name: string;
  label: string;
  value?: string;
  type?: string;
  required?: boolean;
  hint?: Renderable;
  error?: string;
  autocomplete?: string;
  maxlength?: number;
  minlength?: number;
  placeholder?: string;
  id?: string;
  readonly?: boolean;
  inputmode?: string;
}

/** A labelled input with its hint and error, wired with aria-describedby. */
export function field(o: FieldOptions): SafeHtml {
  const id = o.id ?? `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : "", o.error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return html`<div class="field${o.error ? " has-error" : ""}">
<label for="${id}">${o.label}${o.required ? "" : html` <span class="optional">(optional)</span>`}</label>
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ""}
${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ""}
<input id="${id}" name="${o.name}" type="${o.type ?? "text"}" value="${o.value ?? ""}"${o.required ? html` required` : ""}${
    o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ""
  }${o.maxlength ? html` maxlength="${o.maxlength}"` : ""}${o.minlength ? html` minlength="${o.minlength}"` : ""}${
    o.placeholder ? html` placeholder="${o.placeholder}"` : ""
  }${o.readonly ? html` readonly` : ""}${o.inputmode ? html` inputmode="${o.inputmode}"` : ""}${
    described ? html` aria-describedby="${described}"` : ""
  }${o.error ? html` aria-invalid="true"` : ""}>
</div>`;
}

/** A labelled textarea. */
export function textarea(o: Omit<FieldOptions, "type"> & { rows?: number }): SafeHtml {
  const id = o.id ?? `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : "", o.error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return html`<div class="field${o.error ? " has-error" : ""}">
<label for="${id}">${o.label}${o.required ? "" : html` <span class="optional">(optional)</span>`}</label>
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ""}
${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ""}
<textarea id="${id}" name="${o.name}" rows="${o.rows ?? 4}"${o.required ? html` required` : ""}${
    o.maxlength ? html` maxlength="${o.maxlength}"` : ""
  }${described ? html` aria-describedby="${described}"` : ""}${o.error ? html` aria-invalid="true"` : ""}>${o.value ?? ""}</textarea>
</div>`;
}

/** A labelled select. */
export function select(o: {
  name: string;
  label: string;
  options: Array<{ value: string; label: string }>;
  value?: string;
  hint?: string;
  id?: string;
  required?: boolean;
}): SafeHtml {
  const id = o.id ?? `f-${o.name}`;
  return html`<div class="field">
<label for="${id}">${o.label}</label>
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ""}
<select id="${id}" name="${o.name}"${o.required ? html` required` : ""}${o.hint ? html` aria-describedby="${id}-hint"` : ""}>
${o.options.map((opt) => html`<option value="${opt.value}"${opt.value === o.value ? html` selected` : ""}>${opt.label}</option>`)}
</select>
</div>`;
}

/** A message box; errors are announced (role=alert), the rest politely (role=status). */
export function alert(
  kind: "success" | "error" | "info" | "warning",
  body: Renderable,
  title?: string,
): SafeHtml {
  const role = kind === "error" ? "alert" : "status";
  return html`<div class="alert alert-${kind}" role="${role}">${title ? html`<p class="alert-title">${title}</p>` : ""}<div>${body}</div></div>`;
}

/** A refusal of the portal API as a readable message, with the field problems listed. */
export function problemAlert(problem: ApiProblem | undefined, title = "That did not work"): SafeHtml | "" {
  if (!problem) return "";
  const errors = problem.errors.map((e) => html`<li>${e.message}</li>`);
  return alert(
    "error",
    html`<p>${problem.message}</p>${errors.length > 0 ? html`<ul>${errors}</ul>` : ""}`,
    title,
  );
}

/** The badge of a subscription's state. */
export function statusBadge(phase: string, approval?: string): SafeHtml {
  if (approval === "Rejected" || phase === "Rejected")
    return html`<span class="badge badge-danger">Rejected</span>`;
  switch (phase) {
    case "Active":
      return html`<span class="badge badge-success">Active</span>`;
    case "PendingApproval":
      return html`<span class="badge badge-warning">Pending approval</span>`;
    case "Failed":
      return html`<span class="badge badge-danger">Failed</span>`;
    case "Provisioning":
    case "Pending":
      return html`<span class="badge badge-info">Provisioning</span>`;
    default:
      return html`<span class="badge">${phase}</span>`;
  }
}

/** The badge of an Api's authentication. */
export function authBadge(auth: string): SafeHtml {
  const label = auth === "key-auth" ? "API key" : auth === "oauth2" ? "OAuth 2.0" : "Open";
  return html`<span class="badge badge-neutral">${label}</span>`;
}

/** Previous/next links for a paged list. */
export function pagination(
  page: { page: number; pageSize: number; total: number },
  href: (page: number) => string,
): SafeHtml | "" {
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  if (pages <= 1) return "";
  return html`<nav class="pagination" aria-label="Pages">
${page.page > 1 ? html`<a href="${href(page.page - 1)}" rel="prev">← Previous</a>` : html`<span></span>`}
<span>Page ${page.page} of ${pages}</span>
${page.page < pages ? html`<a href="${href(page.page + 1)}" rel="next">Next →</a>` : html`<span></span>`}
</nav>`;
}

/** What a list shows when it has nothing. */
export function emptyState(title: string, body: Renderable, action?: Renderable): SafeHtml {
  return html`<div class="empty"><p class="empty-title">${title}</p><p>${body}</p>${action ? html`<p>${action}</p>` : ""}</div>`;
}

/** A value with a copy button (the button works with JavaScript; without, the text is selectable). */
export function copyable(
  id: string,
  label: string,
  value: string,
  opts: { secret?: boolean } = {},
): SafeHtml {
  return html`<div class="field copy-field">
<label for="${id}">${label}</label>
<div class="copy-row">
<input id="${id}" type="text" value="${value}" readonly spellcheck="false" autocomplete="off"${opts.secret ? html` class="secret"` : ""}>
<button type="button" class="button button-secondary js-only" data-copy="${id}">Copy</button>
</div>
</div>`;
}

/** A date as people read it, in UTC (the server does not know the reader's zone). */
export function formatDate(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Plural-aware count ("1 API", "3 APIs"). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
