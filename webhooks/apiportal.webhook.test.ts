import { describe, expect, it } from "vitest";
import { validateApiPortal } from "./apiportal.webhook.ts";
import { portal } from "./testing.ts";

describe("validateApiPortal", () => {
  it("allows the first portal of a namespace", () => {
    expect(validateApiPortal("CREATE", portal("dev"), { portals: [] }).denials).toEqual([]);
  });

  it("refuses a second portal, naming the one that serves the namespace", () => {
    expect(validateApiPortal("CREATE", portal("second"), { portals: [portal("dev")] }).denials).toEqual([
      "ApiPortal dev already serves namespace shop; there is one portal per namespace, so create this one in another namespace",
    ]);
  });

  it("allows a second portal once the first is being deleted, and updates of either", () => {
    const deleting = portal("dev", { deletionTimestamp: "2026-01-01T00:00:00Z" });
    expect(validateApiPortal("CREATE", portal("second"), { portals: [deleting] }).denials).toEqual([]);
    expect(validateApiPortal("UPDATE", portal("second"), { portals: [portal("dev")] }).denials).toEqual([]);
  });
});
