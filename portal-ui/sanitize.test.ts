import { describe, expect, it } from "vitest";
import { toHtmlString } from "./html.ts";
import { markdownSummary, renderMarkdown } from "./markdown.ts";
import { sanitizeHtml } from "./sanitize.ts";

describe("sanitizeHtml", () => {
  it("drops script, style and iframe elements with their content", () => {
    const out = sanitizeHtml(
      '<p>hi</p><script>alert(1)</script><style>body{}</style><iframe src="x">y</iframe><SCRIPT>x</SCRIPT>',
    );
    expect(out).toBe("<p>hi</p>");
  });

  it("removes event handlers and unknown attributes but keeps allowed ones", () => {
    const out = sanitizeHtml(
      '<img src="https://x.example/a.png" onerror="alert(1)" alt="A" style="x"><p class="c" onclick=go()>t</p>',
    );
    expect(out).toBe('<img src="https://x.example/a.png" alt="A" loading="lazy"><p>t</p>');
  });

  it("removes script URLs, also when hidden with entities, case or whitespace", () => {
    for (const href of [
      "javascript:alert(1)",
      "JAVASCRIPT:alert(1)",
      "jav&#x61;script:alert(1)",
      "jav&#97;script:alert(1)",
      "java\tscript:alert(1)",
      " javascript:alert(1)",
      "vbscript:x",
      "data:text/html;base64,PHNjcmlwdD4=",
    ]) {
      expect(sanitizeHtml(`<a href="${href}">x</a>`)).toBe("<a>x</a>");
    }
    expect(sanitizeHtml('<img src="data:image/png;base64,AAAA">')).toBe('<img loading="lazy">');
  });

  it("keeps http(s), mailto and relative links, marking external ones", () => {
    expect(sanitizeHtml('<a href="https://docs.example.com/x?a=1&amp;b=2">d</a>')).toBe(
      '<a href="https://docs.example.com/x?a=1&amp;b=2" rel="noopener noreferrer nofollow">d</a>',
    );
    expect(sanitizeHtml('<a href="mailto:team@example.com">m</a>')).toBe(
      '<a href="mailto:team@example.com">m</a>',
    );
    expect(sanitizeHtml('<a href="/apis/orders">o</a>')).toBe('<a href="/apis/orders">o</a>');
  });

  it("escapes stray angle brackets and keeps the text of unknown tags", () => {
    expect(sanitizeHtml("a < b > c <blink>on</blink> 1<2")).toBe("a &lt; b &gt; c on 1&lt;2");
    expect(sanitizeHtml("<p>AT&T &amp; co</p>")).toBe("<p>AT&amp;T &amp; co</p>");
  });

  it("produces well-nested output: stray end tags ignored, open tags closed", () => {
    expect(sanitizeHtml("</div><table><tr><td>x")).toBe("<table><tr><td>x</td></tr></table>");
    expect(sanitizeHtml("<p><em>a</p>b")).toBe("<p><em>a</em></p>b");
  });

  it("does not let a quoted '>' inside an attribute end the tag", () => {
    const out = sanitizeHtml('<img alt="a>b" src="https://x.example/i.png" onerror="alert(1)">');
    expect(out).toBe('<img alt="a&gt;b" src="https://x.example/i.png" loading="lazy">');
  });

  it("drops comments, doctype and processing instructions, and unterminated tags become text", () => {
    expect(sanitizeHtml("<!-- <script>x</script> --><!DOCTYPE html><?xml x?>ok")).toBe("ok");
    expect(sanitizeHtml('ok <img src=x onerror="alert(1)"')).toBe('ok &lt;img src=x onerror="alert(1)"');
  });

  it("shifts heading levels below the page's own h1", () => {
    expect(sanitizeHtml("<h1>A</h1><h6>B</h6>", { headingOffset: 1 })).toBe("<h2>A</h2><h6>B</h6>");
  });

  it("keeps only disabled task-list checkboxes of all inputs", () => {
    expect(
      sanitizeHtml('<input type="checkbox" checked><input type="text" value="x"><input type="hidden">'),
    ).toBe('<input type="checkbox" checked disabled>');
  });

  it("security #11: parses like a browser through sanitize-html, not a hand-written tokenizer", () => {
    // The old tokenizer looked tags up on a plain object: "constructor" passed the allow-list or threw.
    expect(sanitizeHtml('<constructor title="x">a</constructor><constructor>b</constructor>')).toBe("ab");
    // Containers dropped with their content stay dropped when nested.
    expect(sanitizeHtml('<svg><svg></svg><a href="https://x.example">in svg</a></svg>after')).toBe("after");
    // Every named character reference is decoded before the scheme check.
    expect(sanitizeHtml('<a href="javascript&colon;alert(1)">x</a>')).toBe("<a>x</a>");
    expect(toHtmlString(renderMarkdown('Hi <constructor onclick="x">there</constructor>'))).toBe(
      "<p>Hi there</p>\n",
    );
  });
});

describe("renderMarkdown", () => {
  it("renders GitHub-flavoured markdown and removes raw HTML that is not allowed", () => {
    const out = toHtmlString(
      renderMarkdown(
        "# Orders\n\nUse **it**. <script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
      ),
    );
    expect(out).toContain("<h2>Orders</h2>");
    expect(out).toContain("<strong>it</strong>");
    expect(out).toContain("<table>");
    expect(out).not.toContain("<script");
    expect(out).not.toContain("javascript:");
    expect(out).not.toContain("onerror");
  });

  it("summarises the first paragraph as plain text", () => {
    expect(markdownSummary("# Title\n\nThe **orders** API: see [docs](https://x).\n\nMore.")).toBe(
      "The orders API: see docs.",
    );
    expect(markdownSummary("x".repeat(300), 20)).toHaveLength(20);
  });
});
