/**
 * An allow-list HTML sanitiser for the markdown that Api teams and portal admins write (rendered by marked,
 * which passes inline HTML through). Everything not on the list is removed: unknown tags are dropped (their
 * text kept), dangerous containers (script, style, iframe, …) are dropped with their content, attributes
 * are kept only where listed, URLs only with http(s), mailto or relative targets, and the output is
 * well-nested (stray end tags ignored, open tags closed), so a description cannot break the page around it.
 * Pure; no DOM needed.
 */

/** Options of the sanitiser. */
export interface SanitizeOptions {
  /** Added to heading levels (h1 becomes h2 with 1), so page content sits below the page's own h1. */
  headingOffset?: number;
}

const VOID = new Set(["br", "hr", "img", "input"]);

/** Allowed tags and, for each, the attributes it keeps. */
const ALLOWED: Record<string, readonly string[]> = {
  p: [],
  br: [],
  hr: [],
  h1: ["id"],
  h2: ["id"],
  h3: ["id"],
  h4: ["id"],
  h5: ["id"],
  h6: ["id"],
  strong: [],
  em: [],
  b: [],
  i: [],
  u: [],
  s: [],
  del: [],
  ins: [],
  mark: [],
  small: [],
  sub: [],
  sup: [],
  kbd: [],
  abbr: ["title"],
  code: ["class"],
  pre: [],
  blockquote: [],
  ul: [],
  ol: ["start"],
  li: [],
  dl: [],
  dt: [],
  dd: [],
  a: ["href", "title"],
  img: ["src", "alt", "title", "width", "height"],
  table: [],
  thead: [],
  tbody: [],
  tfoot: [],
  tr: [],
  th: ["align", "scope"],
  td: ["align"],
  caption: [],
  details: [],
  summary: [],
  span: [],
  div: [],
  input: ["type", "checked", "disabled"],
};

/** Tags removed together with everything inside them. */
const DROP_WITH_CONTENT = new Set([
  "script",
  "style",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "noscript",
  "noembed",
  "noframes",
  "template",
  "textarea",
  "select",
  "title",
  "svg",
  "math",
  "xmp",
  "plaintext",
  "head",
]);

const URL_ATTRIBUTES = new Set(["href", "src"]);

/** Checks an attribute value; returns the value to keep, or undefined to drop the attribute. */
function checkAttribute(tag: string, name: string, value: string): string | undefined {
  if (URL_ATTRIBUTES.has(name)) return safeLink(value, tag === "img");
  switch (name) {
    case "class":
      // Only marked's language classes on code blocks.
      return /^language-[A-Za-z0-9_+-]{1,40}$/.test(value) ? value : undefined;
    case "align":
      return /^(left|right|center)$/.test(value) ? value : undefined;
    case "scope":
      return /^(row|col|rowgroup|colgroup)$/.test(value) ? value : undefined;
    case "start":
    case "width":
    case "height":
      return /^\d{1,5}$/.test(value) ? value : undefined;
    case "type":
      return value.toLowerCase() === "checkbox" ? "checkbox" : undefined;
    case "checked":
    case "disabled":
      return "";
    case "id":
      return /^[A-Za-z][\w-]{0,80}$/.test(value) ? `md-${value}` : undefined;
    default:
      return value.length <= 500 ? value : undefined;
  }
}

/** A link target that cannot run script: http(s), mailto (not for images), a fragment or a relative path. */
function safeLink(value: string, image: boolean): string | undefined {
  // Browsers ignore control characters and whitespace inside the scheme ("java\tscript:").
  let compact = "";
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (code > 0x20 && (code < 0x7f || code > 0x9f)) compact += c;
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(compact)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // Relative: no scheme. "//host" is protocol-relative, allowed like https.
    return value.trim();
  }
  const allowed = image ? ["http", "https"] : ["http", "https", "mailto"];
  return allowed.includes(scheme) ? value.trim() : undefined;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Decodes character references in an attribute value (numeric ones and the few markup-relevant names). */
export function decodeEntities(value: string): string {
  return value.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[A-Za-z]{2,8});?/g, (match, ref: string) => {
    if (ref.startsWith("#")) {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd";
    }
    return NAMED[ref.toLowerCase()] ?? match;
  });
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes text content, keeping well-formed character references (they decode to text, never markup). */
function escapeText(text: string): string {
  return text
    .replace(/&(?!(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[A-Za-z][A-Za-z0-9]{1,31});)/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** Where a tag starting at `start` ends (index of its `>`), honouring quoted attribute values; -1 if never. */
function tagEnd(input: string, start: number): number {
  let quote: string | undefined;
  for (let i = start; i < input.length; i++) {
    const c = input[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ">") {
      return i;
    }
  }
  return -1;
}

const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function parseAttributes(body: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of body.matchAll(ATTRIBUTE)) {
    const name = (m[1] ?? "").toLowerCase();
    out.push([name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? "")]);
  }
  return out;
}

/** Sanitises HTML against the allow-list. */
export function sanitizeHtml(input: string, options: SanitizeOptions = {}): string {
  const offset = options.headingOffset ?? 0;
  const rename = (tag: string): string => {
    const level = /^h([1-6])$/.exec(tag)?.[1];
    return level ? `h${Math.min(6, Number(level) + offset)}` : tag;
  };
  const out: string[] = [];
  const open: string[] = [];
  let i = 0;
  while (i < input.length) {
    const lt = input.indexOf("<", i);
    if (lt < 0) {
      out.push(escapeText(input.slice(i)));
      break;
    }
    out.push(escapeText(input.slice(i, lt)));
    if (input.startsWith("<!--", lt)) {
      const end = input.indexOf("-->", lt + 4);
      i = end < 0 ? input.length : end + 3;
      continue;
    }
    const rest = input.slice(lt + 1, lt + 2);
    if (rest === "!" || rest === "?") {
      const end = input.indexOf(">", lt);
      i = end < 0 ? input.length : end + 1;
      continue;
    }
    const closing = rest === "/";
    const nameMatch = /^[A-Za-z][A-Za-z0-9-]*/.exec(input.slice(lt + (closing ? 2 : 1)));
    if (!nameMatch) {
      out.push("&lt;");
      i = lt + 1;
      continue;
    }
    const end = tagEnd(input, lt + 1);
    if (end < 0) {
      // An unterminated tag: the rest is text.
      out.push(escapeText(input.slice(lt)));
      break;
    }
    const name = nameMatch[0].toLowerCase();
    i = end + 1;
    if (closing) {
      const at = open.lastIndexOf(name);
      if (at >= 0) {
        while (open.length > at) out.push(`</${rename(open.pop() ?? "")}>`);
      }
      continue;
    }
    if (DROP_WITH_CONTENT.has(name)) {
      const close = input.toLowerCase().indexOf(`</${name}`, i);
      if (close < 0) break;
      const closeEnd = input.indexOf(">", close);
      i = closeEnd < 0 ? input.length : closeEnd + 1;
      continue;
    }
    const allowed = ALLOWED[name];
    if (!allowed) continue;
    const body = input.slice(lt + 1 + name.length, end).replace(/\/\s*$/, "");
    const attributes: string[] = [];
    for (const [attr, value] of parseAttributes(body)) {
      if (!allowed.includes(attr)) continue;
      const kept = checkAttribute(name, attr, value);
      if (kept === undefined) continue;
      attributes.push(
        kept === "" && (attr === "checked" || attr === "disabled")
          ? ` ${attr}`
          : ` ${attr}="${escapeAttribute(kept)}"`,
      );
    }
    if (name === "input") {
      // Only GFM task-list boxes: read-only checkboxes.
      if (!attributes.includes(' type="checkbox"')) continue;
      if (!attributes.includes(" disabled")) attributes.push(" disabled");
    }
    if (name === "a" && attributes.some((a) => /^ href="(https?:)?\/\//i.test(a))) {
      attributes.push(' rel="noopener noreferrer nofollow"');
    }
    if (name === "img") attributes.push(' loading="lazy"');
    // Code blocks scroll sideways: keyboard users must be able to reach them.
    if (name === "pre") attributes.push(' tabindex="0"');
    out.push(`<${rename(name)}${attributes.join("")}>`);
    if (!VOID.has(name)) open.push(name);
  }
  while (open.length > 0) out.push(`</${rename(open.pop() ?? "")}>`);
  return out.join("");
}
