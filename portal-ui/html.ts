/**
 * Type-checked HTML templates without a template engine: `html` is a tagged template that escapes every
 * interpolated value unless it is already `SafeHtml` (the result of another `html` call). The one way to
 * insert markup that did not come from a template is `raw()`, used only for markdown after the allow-list
 * sanitiser (markdown.ts), so a value a user typed can never become markup by accident.
 */

/** Markup that is safe to insert as is: built by `html`, or trusted through `raw`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What a template can interpolate: text (escaped), numbers, markup, lists of these; nothing for null/false. */
export type Renderable = SafeHtml | string | number | boolean | null | undefined | readonly Renderable[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function render(value: Renderable): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false || value === true) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** The tagged template: `html\`<p>${name}</p>\`` escapes `name`. */
export function html(strings: TemplateStringsArray, ...values: Renderable[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

/**
 * Trusts a string as markup. Only for output of the sanitiser (markdown.ts) and fixed strings in this
 * folder; never for anything a user or an API returned unsanitised.
 */
export function raw(trusted: string): SafeHtml {
  return new SafeHtml(trusted);
}

/** Joins renderables with a separator. */
export function join(items: readonly Renderable[], separator: Renderable = ""): SafeHtml {
  return new SafeHtml(items.map(render).join(render(separator)));
}

/** Renders to a string (for the reply). */
export function toHtmlString(value: Renderable): string {
  return render(value);
}

/**
 * A URL safe for href/src: http(s), mailto, or a path on this site; anything else (javascript:, data:, …)
 * becomes "#".
 */
export function safeUrl(url: string | undefined | null): string {
  if (!url) return "#";
  const trimmed = url.trim();
  if (/^\/(?!\/)/.test(trimmed) || trimmed.startsWith("#") || trimmed.startsWith("?")) return trimmed;
  try {
    const parsed = new URL(trimmed);
    return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.toString() : "#";
  } catch {
    return "#";
  }
}
