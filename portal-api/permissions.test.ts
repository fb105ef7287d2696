import { describe, expect, it } from "vitest";
import {
  applicationRole,
  canApprove,
  canSee,
  isAdmin,
  type PortalUser,
  roleAllows,
  tokenAllows,
} from "./permissions.ts";

const groups = { admin: "admin", approver: "approver" };
const user = (g: string[], admin = false): PortalUser => ({
  id: "u",
  email: "Jane@Example.com",
  emailTrusted: true,
  displayName: "Jane",
  groups: g,
  isAdmin: admin,
});

describe("permissions", () => {
  it("shows group-restricted objects only to members and admins; open ones to everyone", () => {
    expect(canSee(null, null, groups)).toBe(true);
    expect(canSee(null, "finance", groups)).toBe(false);
    expect(canSee(user(["finance"]), "finance", groups)).toBe(true);
    expect(canSee(user(["hr"]), "finance", groups)).toBe(false);
    expect(canSee(user(["admin"]), "finance", groups)).toBe(true);
  });

  it("lets approvers approve only Apis of their groups (or without a group); admins everything", () => {
    expect(canApprove(user(["approver", "finance"]), "finance", groups)).toBe(true);
    expect(canApprove(user(["approver", "hr"]), "finance", groups)).toBe(false);
    expect(canApprove(user(["finance"]), "finance", groups)).toBe(false);
    expect(canApprove(user(["approver"]), null, groups)).toBe(true);
    expect(canApprove(user([], true), "finance", groups)).toBe(true);
    expect(isAdmin(user(["admin"]), groups)).toBe(true);
  });

  it("derives the role on an application from its owner and collaborators, ignoring case", () => {
    const spec = {
      owner: "jane@example.com",
      collaborators: [{ user: "BOB@example.com", role: "Reader" as const }],
    };
    const trusted = (email: string) => ({ email, emailTrusted: true });
    expect(applicationRole(trusted("JANE@example.com"), spec)).toBe("Owner");
    expect(applicationRole(trusted("bob@example.com"), spec)).toBe("Reader");
    expect(applicationRole(trusted("eve@example.com"), spec)).toBeUndefined();
    // An address nobody proved matches nothing, not even the owner.
    expect(applicationRole({ email: "jane@example.com", emailTrusted: false }, spec)).toBeUndefined();
    expect(roleAllows("Reader", "view")).toBe(true);
    expect(roleAllows("Reader", "subscribe")).toBe(false);
    expect(roleAllows("Collaborator", "subscribe")).toBe(true);
    expect(roleAllows("Collaborator", "manage")).toBe(false);
    expect(roleAllows(undefined, "view")).toBe(false);
  });

  it("needs the token's scope too, with write implying read", () => {
    expect(tokenAllows(new Set(["portal.write"]), "read")).toBe(true);
    expect(tokenAllows(new Set(["portal.read"]), "write")).toBe(false);
    expect(tokenAllows(new Set(["portal.read"]), "approve")).toBe(false);
    expect(tokenAllows(new Set(["portal.admin"]), "admin")).toBe(true);
  });
});
