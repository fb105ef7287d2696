/**
 * Markdown as the portal shows it (Api descriptions, plan descriptions, content pages): GitHub-flavoured
 * markdown through marked, then the allow-list sanitiser, and only then trusted as markup. The one caller of
 * `raw()` outside fixed strings.
 */
import { Marked } from "marked";
import { raw, type SafeHtml } from "./html.ts";
import { sanitizeHtml } from "./sanitize.ts";

const marked = new Marked({ gfm: true, breaks: false, async: false });

/** Renders markdown to sanitised markup; headings shift by `headingOffset` levels (default 1: h1 → h2). */
export function renderMarkdown(markdown: string, headingOffset = 1): SafeHtml {
  const rendered = marked.parse(markdown, { async: false });
  return raw(sanitizeHtml(rendered, { headingOffset }));
}

/** The first paragraph of markdown as plain text, shortened: for catalog cards. */
export function markdownSummary(markdown: string, max = 180): string {
  const paragraph =
    markdown
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .find((p) => p && !p.startsWith("#") && !p.startsWith("```") && !p.startsWith("|")) ?? "";
  const text = paragraph
    .replace(/!\[[^\]]*\]\([^)]*\)/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]*>/g, "")
    .replace(/[*_`~>#]/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}
