import { describe, expect, it } from "vitest";
import { DEFAULT_TEMPLATES, MAIL_KINDS, MAIL_VARIABLES, templateSet } from "./mail-templates.ts";
import { renderTemplate, TemplateError } from "./templates.ts";

describe("templateSet", () => {
  it("parses every default template against the placeholders of its kind", () => {
    const set = templateSet(undefined, "");
    for (const kind of MAIL_KINDS) expect(set.byKind[kind]).not.toBeInstanceOf(TemplateError);
    expect(set.unknownKeys).toEqual([]);
  });

  it("uses an override for the parts it names and the defaults for the rest", () => {
    const set = templateSet({ "welcome.subject": "Servus {{userName}}" }, "ConfigMap ns/mail");
    const welcome = set.byKind.welcome;
    if (welcome instanceof TemplateError) throw welcome;
    const values = Object.fromEntries(MAIL_VARIABLES.welcome.map((v) => [v, v.toUpperCase()]));
    expect(renderTemplate(welcome.subject, values, "subject")).toBe("Servus USERNAME");
    expect(renderTemplate(welcome.text, values, "text")).toContain("your account at PORTALNAME is ready");
  });

  it("keeps a broken override as the error of its kind only, naming the ConfigMap key", () => {
    const set = templateSet({ "welcome.html": "{{resetUrl}}" }, "ConfigMap ns/mail");
    expect(set.byKind.welcome).toBeInstanceOf(TemplateError);
    expect((set.byKind.welcome as TemplateError).message).toContain(
      "ConfigMap ns/mail key welcome.html uses {{resetUrl}}",
    );
    expect(set.byKind["password-reset"]).not.toBeInstanceOf(TemplateError);
  });

  it("lists keys that name no template", () => {
    expect(templateSet({ "welcom.subject": "x", "welcome.body": "y" }, "c").unknownKeys).toEqual([
      "welcom.subject",
      "welcome.body",
    ]);
  });

  it("has a subject, text and HTML default for every kind", () => {
    for (const kind of MAIL_KINDS) {
      expect(DEFAULT_TEMPLATES[kind].subject.length).toBeGreaterThan(0);
      expect(DEFAULT_TEMPLATES[kind].html).toContain("<html>");
    }
  });
});
