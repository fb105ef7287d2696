/**
 * The mail template language: text with `{{name}}` placeholders and nothing else — no expressions, no
 * loops, no helpers, so a template from a ConfigMap can never run code. Every value put into an HTML
 * template is HTML-escaped; subjects lose line breaks. Pure.
 */

/** A template, or a value in one, that cannot be used; the message says which and what to do. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

/** A parsed template: literal text and placeholders, alternating. */
export interface Template {
  /** Literal parts; always one more than `names`. */
  readonly literals: readonly string[];
  /** Placeholder names, in order. */
  readonly names: readonly string[];
}

/** How values are put into the output. */
export type TemplateFormat = "text" | "html" | "subject";

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * Parses a template, refusing placeholders that are not a plain name or not in `allowed`. `where` names the
 * template in error messages (e.g. "ConfigMap mail-templates key welcome.html").
 */
export function parseTemplate(source: string, allowed: readonly string[], where: string): Template {
  const literals: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!NAME.test(name)) {
      throw new TemplateError(
        `${where} has the placeholder {{${name}}}; only plain names such as {{userName}} are supported`,
      );
    }
    if (!allowed.includes(name)) {
      throw new TemplateError(
        `${where} uses {{${name}}}, which this template does not have; use one of ${allowed.map((a) => `{{${a}}}`).join(", ")}`,
      );
    }
    literals.push(source.slice(last, match.index));
    names.push(name);
    last = match.index + match[0].length;
  }
  const rest = source.slice(last);
  if (rest.includes("{{") || literals.some((l) => l.includes("{{"))) {
    throw new TemplateError(`${where} has an unclosed {{; close every placeholder with }}`);
  }
  literals.push(rest);
  return { literals, names };
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function formatValue(value: string, format: TemplateFormat): string {
  if (format === "html") return escapeHtml(value);
  if (format === "subject") return value.replace(/[\r\n]+/g, " ");
  return value;
}

/**
 * Renders a parsed template. Every placeholder must have a value (a missing one is a bug in the caller,
 * reported as a TemplateError rather than rendered as an empty string).
 */
export function renderTemplate(
  template: Template,
  values: Readonly<Record<string, string>>,
  format: TemplateFormat,
): string {
  let out = template.literals[0] ?? "";
  template.names.forEach((name, i) => {
    const value = values[name];
    if (value === undefined) throw new TemplateError(`No value for {{${name}}}`);
    out += formatValue(value, format) + (template.literals[i + 1] ?? "");
  });
  return format === "subject" ? out.replace(/[\r\n]+/g, " ").trim() : out;
}
