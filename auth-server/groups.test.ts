import { describe, expect, it } from "vitest";
import { groupsFromClaim, mapIdpGroups, mergeIdpGroups } from "./groups.ts";

const mappings = [
  { idpGroup: "CN=Finance,OU=Groups", group: "finance" },
  { idpGroup: "corp-approvers", group: "approver" },
  { idpGroup: "corp-finance-leads", group: "finance" },
];

describe("identity-provider groups", () => {
  it("reads the groups claim as a list, a space or comma separated string, or nothing", () => {
    expect(groupsFromClaim(["a", "b", 3])).toEqual(["a", "b"]);
    expect(groupsFromClaim("a b,c")).toEqual(["a", "b", "c"]);
    expect(groupsFromClaim(undefined)).toEqual([]);
  });

  it("maps IdP groups onto portal groups, once each, ignoring unmapped ones", () => {
    expect(mapIdpGroups(["CN=Finance,OU=Groups", "corp-finance-leads", "unmapped"], mappings)).toEqual([
      "finance",
    ]);
    expect(mapIdpGroups([], mappings)).toEqual([]);
  });

  it("replaces the mapped portal groups on each login and keeps the ones admins assigned", () => {
    expect(mergeIdpGroups(["beta", "finance"], ["corp-approvers"], mappings)).toEqual(["approver", "beta"]);
    expect(mergeIdpGroups(["approver"], [], mappings)).toEqual([]);
    expect(mergeIdpGroups([], ["corp-approvers", "CN=Finance,OU=Groups"], mappings)).toEqual([
      "approver",
      "finance",
    ]);
  });
});
