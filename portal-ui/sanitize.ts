/**
 * The allow-list HTML sanitiser for the markdown that Api teams and portal admins write (rendered by marked,
 * which passes inline HTML through), on sanitize-html: htmlparser2 parses, sanitize-html drops what is not on
 * the list and writes well-nested, escaped markup. Unknown tags are dropped (their text kept), dangerous
 * containers (script, style, iframe, …) are dropped with their content, attributes are kept only where
 * listed and with values of the expected shape, URLs only with http(s), mailto (not for images) or relative
 * targets. Pure; no DOM needed.
 */
import sanitize from "sanitize-html";

/** Options of the sanitiser. */
export interface SanitizeOptions {
  /** Added to heading levels (h1 becomes h2 with 1), so page content sits below the page's own h1. */
  headingOffset?: number;
}

/** Allowed tags and, for each, the attributes it keeps. */
export const ALLOWED_TAGS: Readonly<Record<string, readonly string[]>> = {
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

/** Attributes the sanitiser itself sets (any the author wrote are dropped first). */
const ADDED: Readonly<Record<string, readonly string[]>> = {
  a: ["rel"],
  img: ["loading"],
  pre: ["tabindex"],
};

/** Tags removed together with everything inside them. */
const DROP_WITH_CONTENT = [
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
];

/**
 * Checks an attribute value; returns the value to keep, or undefined to drop the attribute. URL schemes are
 * sanitize-html's to check.
 */
function checkAttribute(name: string, value: string): string | undefined {
  switch (name) {
    case "href":
    case "src":
      return value.trim();
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

/** Keeps the checked attributes of an allowed tag, adds the sanitiser's own and shifts headings. */
function rewriteTag(tag: string, attribs: sanitize.Attributes, headingOffset: number): sanitize.Tag {
  const allowed = Object.hasOwn(ALLOWED_TAGS, tag) ? (ALLOWED_TAGS[tag] ?? []) : [];
  const kept: sanitize.Attributes = {};
  for (const [name, value] of Object.entries(attribs)) {
    const checked = allowed.includes(name) ? checkAttribute(name, value) : undefined;
    if (checked !== undefined) kept[name] = checked;
  }
  // Only GFM task-list boxes, read-only (other inputs are removed by `exclusiveFilter`).
  if (tag === "input") kept.disabled = "";
  if (tag === "a" && /^(https?:)?\/\//i.test(kept.href ?? "")) kept.rel = "noopener noreferrer nofollow";
  if (tag === "img") kept.loading = "lazy";
  // Code blocks scroll sideways: keyboard users must be able to reach them.
  if (tag === "pre") kept.tabindex = "0";
  const level = /^h([1-6])$/.exec(tag)?.[1];
  return { tagName: level ? `h${Math.min(6, Number(level) + headingOffset)}` : tag, attribs: kept };
}

/** What sanitize-html is called with. */
export function sanitizeHtmlOptions(options: SanitizeOptions = {}): sanitize.IOptions {
  const headingOffset = options.headingOffset ?? 0;
  return {
    allowedTags: Object.keys(ALLOWED_TAGS),
    allowedAttributes: Object.fromEntries(
      Object.entries(ALLOWED_TAGS).map(([tag, names]) => [tag, [...names, ...(ADDED[tag] ?? [])]]),
    ),
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesByTag: { img: ["http", "https"] },
    allowProtocolRelative: true,
    disallowedTagsMode: "discard",
    nonTextTags: DROP_WITH_CONTENT,
    selfClosing: ["br", "hr", "img", "input"],
    transformTags: { "*": (tag, attribs) => rewriteTag(tag, attribs, headingOffset) },
    exclusiveFilter: (frame) => frame.tag === "input" && frame.attribs.type !== "checkbox",
  };
}

/** Sanitises HTML against the allow-list. */
export function sanitizeHtml(input: string, options: SanitizeOptions = {}): string {
  // htmlparser2 (like a browser) drops a tag cut off by the end of the input; the portal shows it as text.
  const lastGt = input.lastIndexOf(">") + 1;
  const text = input.slice(0, lastGt) + input.slice(lastGt).replace(/<(?=\/?[A-Za-z])/g, "&lt;");
  // sanitize-html writes void elements XHTML-style (`<br />`); it escapes every other `>`, so this only
  // touches the ends of those tags.
  return sanitize(text, sanitizeHtmlOptions(options)).replaceAll(" />", ">");
}
