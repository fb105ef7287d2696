import { describe, expect, it } from "vitest";
import { consentPage, errorPage, escapeHtml, loginPage } from "./views.ts";

const frame = { portalName: "Demo <Portal>", title: "Log in" };

describe("the interaction pages", () => {
  it("escapes every value it shows", () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;",
    );
    const html = consentPage(frame, {
      action: "/a",
      abortHref: "/b",
      csrfToken: "t",
      clientName: "<img src=x onerror=alert(1)>",
      scopes: ['a"b'],
    });
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("Demo &lt;Portal&gt;");
    expect(errorPage(frame, { error_description: "<b>bad</b>" })).toContain("&lt;b&gt;bad&lt;/b&gt;");
  });

  it("carries the CSRF token in every form and never the password", () => {
    const html = loginPage(frame, {
      action: "/auth/interaction/u1/login",
      csrfToken: "csrf-123",
      email: "jane@example.com",
      localEnabled: true,
      providers: [{ name: "corp", displayName: "Corp SSO", href: "/auth/interaction/u1/federated/corp" }],
      abortHref: "/auth/interaction/u1/abort",
      error: "Wrong email or password.",
    });
    expect(html).toContain('name="_csrf" value="csrf-123"');
    expect(html).toContain('value="jane@example.com"');
    expect(html).toContain("Log in with Corp SSO");
    expect(html).not.toMatch(/<script/i);
  });
});
