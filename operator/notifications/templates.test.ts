import { describe, expect, it } from "vitest";
import { escapeHtml, parseTemplate, renderTemplate, TemplateError } from "./templates.ts";

const allowed = ["userName", "verifyUrl"];

describe("parseTemplate and renderTemplate", () => {
  it("replaces every placeholder, with or without blanks inside the braces", () => {
    const t = parseTemplate("Hi {{userName}}, open {{ verifyUrl }} — {{userName}}!", allowed, "t");
    expect(renderTemplate(t, { userName: "Ada", verifyUrl: "https://x/v?token=1" }, "text")).toBe(
      "Hi Ada, open https://x/v?token=1 — Ada!",
    );
  });

  it("escapes every value in HTML, including quotes inside attributes", () => {
    const t = parseTemplate('<a href="{{verifyUrl}}">{{userName}}</a>', allowed, "t");
    const html = renderTemplate(
      t,
      { userName: `<script>alert("x")</script> & 'co'`, verifyUrl: 'https://x/?a=1&b="2"' },
      "html",
    );
    expect(html).toBe(
      '<a href="https://x/?a=1&amp;b=&quot;2&quot;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</a>',
    );
    expect(html).not.toContain("<script>");
  });

  it("keeps values as they are in text and removes line breaks from subjects", () => {
    const t = parseTemplate("Hello {{userName}}", allowed, "t");
    expect(renderTemplate(t, { userName: "<b>Ada</b>" }, "text")).toBe("Hello <b>Ada</b>");
    expect(renderTemplate(t, { userName: "Ada\r\nBcc: evil@example.com" }, "subject")).toBe(
      "Hello Ada Bcc: evil@example.com",
    );
  });

  it("does not evaluate anything: expressions, helpers and unknown names are refused", () => {
    expect(() =>
      parseTemplate("{{constructor.constructor('x')()}}", allowed, "ConfigMap m key a.html"),
    ).toThrow(/ConfigMap m key a.html has the placeholder .*only plain names/);
    expect(() => parseTemplate("{{#if userName}}x{{/if}}", allowed, "t")).toThrow(TemplateError);
    expect(() => parseTemplate("{{password}}", allowed, "key welcome.text")).toThrow(
      "key welcome.text uses {{password}}, which this template does not have; use one of {{userName}}, {{verifyUrl}}",
    );
  });

  it("refuses an unclosed placeholder", () => {
    expect(() => parseTemplate("Hi {{userName", allowed, "t")).toThrow(/unclosed/);
    expect(() => parseTemplate("{{ {{userName}}", allowed, "t")).toThrow(TemplateError);
  });

  it("reports a missing value instead of rendering an empty string", () => {
    const t = parseTemplate("{{userName}}", allowed, "t");
    expect(() => renderTemplate(t, {}, "text")).toThrow("No value for {{userName}}");
  });

  it("escapes the five HTML special characters", () => {
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;");
  });
});
