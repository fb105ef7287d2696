import { describe, expect, it } from "vitest";
import { chatPayload, escapeMarkdown, escapeSlack } from "./chat.ts";

const portal = { portalName: "Shop", portalUrl: "https://dev.shop.example" };

describe("chatPayload", () => {
  it("posts Slack text with user values unable to become links or mentions", () => {
    const body = chatPayload(
      "Slack",
      "SignedUp",
      { userName: "<!channel> <https://evil|click>", email: "a&b@x.org" },
      portal,
    );
    expect(body).toEqual({
      text: "New sign-up at Shop: &lt;!channel&gt; &lt;https://evil|click&gt; (a&amp;b@x.org)",
    });
  });

  it("links approvals in the platform's syntax", () => {
    const facts = { requesterName: "Ada", application: "App", api: "Orders", plan: "gold" };
    expect((chatPayload("Slack", "ApprovalRequired", facts, portal) as { text: string }).text).toContain(
      "<https://dev.shop.example/approvals|review it>",
    );
    expect((chatPayload("RocketChat", "ApprovalRequired", facts, portal) as { text: string }).text).toBe(
      "Ada subscribed App to Orders (gold plan), which needs an approval: [review it](https://dev.shop.example/approvals)",
    );
  });

  it("sends Teams an Adaptive Card with escaped Markdown", () => {
    const body = chatPayload(
      "Teams",
      "ApplicationAdded",
      { userName: "[x](https://evil)", application: "*App*" },
      portal,
    ) as {
      attachments: Array<{ contentType: string; content: { body: Array<{ text: string }> } }>;
    };
    expect(body.attachments[0]?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(body.attachments[0]?.content.body[0]?.text).toBe(
      "\\[x\\]\\(https://evil\\) registered the application \\*App\\* at Shop",
    );
  });

  it("keeps a message on one line and a RocketChat value from mentioning everyone", () => {
    expect(
      (
        chatPayload("RocketChat", "PasswordResetRequested", { email: "a@b.c\n@all" }, portal) as {
          text: string;
        }
      ).text,
    ).toBe("a@\u200bb\\.c @\u200ball asked to reset their password at Shop");
  });
});

describe("escapers", () => {
  it("escape the markup characters of each platform", () => {
    expect(escapeSlack("<&>")).toBe("&lt;&amp;&gt;");
    expect(escapeMarkdown("_*`~")).toBe("\\_\\*\\`\\~");
  });
});
