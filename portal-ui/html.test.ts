import { describe, expect, it } from "vitest";
import { escapeHtml, html, join, raw, safeUrl, toHtmlString } from "./html.ts";

describe("html templates", () => {
  it("escapes every interpolated string, in text and in attributes", () => {
    const name = `<script>alert("x")</script>`;
    const out = toHtmlString(html`<p title="${name}">${name}</p>`);
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>',
    );
    expect(out).not.toContain("<script>");
  });

  it("cannot break out of a quoted attribute with quotes or backticks", () => {
    const out = toHtmlString(
      html`<a href="/x" title='${"' onmouseover='alert(1)"}' data-x="${'" autofocus onfocus="alert(1)'}">`,
    );
    expect(out).not.toMatch(/onmouseover='alert/);
    expect(out).not.toMatch(/" autofocus/);
    expect(escapeHtml("`")).toBe("&#96;");
  });

  it("inserts nested templates as markup and renders lists, numbers and nothing for null and booleans", () => {
    const items = ["a<b", "c"].map((i) => html`<li>${i}</li>`);
    expect(toHtmlString(html`<ul>${items}</ul>${3}${null}${undefined}${false}${true}`)).toBe(
      "<ul><li>a&lt;b</li><li>c</li></ul>3",
    );
    expect(toHtmlString(join(["<x>", html`<br>`], ", "))).toBe("&lt;x&gt;, <br>");
  });

  it("trusts markup only through raw()", () => {
    expect(toHtmlString(html`${raw("<em>ok</em>")}`)).toBe("<em>ok</em>");
    expect(toHtmlString(html`${"<em>no</em>"}`)).toBe("&lt;em&gt;no&lt;/em&gt;");
  });

  it("keeps only http(s), mailto and same-site URLs", () => {
    expect(safeUrl("https://example.com/logo.png")).toBe("https://example.com/logo.png");
    expect(safeUrl("/apis?x=1")).toBe("/apis?x=1");
    expect(safeUrl("javascript:alert(1)")).toBe("#");
    expect(safeUrl(" JaVaScRiPt:alert(1)")).toBe("#");
    expect(safeUrl("data:text/html,<script>")).toBe("#");
    expect(safeUrl("//evil.example/x")).toBe("#");
    expect(safeUrl(undefined)).toBe("#");
  });
});
