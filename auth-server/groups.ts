/**
 * Identity-provider groups onto portal groups (ApiPortal `groups.mappings`). A portal group that is the
 * target of a mapping is owned by the identity providers: each federated login sets it from the IdP's
 * groups, adding and removing. Other portal groups (set by portal admins) are kept as they are.
 */

/** One mapping of the ApiPortal. */
export interface GroupMapping {
  idpGroup: string;
  group: string;
}

/** The IdP groups claim as a list of strings (a string, a list, or absent). */
export function groupsFromClaim(value: unknown): string[] {
  if (typeof value === "string") return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/** The portal groups the IdP groups map to. */
export function mapIdpGroups(idpGroups: readonly string[], mappings: readonly GroupMapping[]): string[] {
  const have = new Set(idpGroups);
  return [...new Set(mappings.filter((m) => have.has(m.idpGroup)).map((m) => m.group))].sort();
}

/** A user's groups after a federated login: groups owned by mappings replaced, the others kept. */
export function mergeIdpGroups(
  existing: readonly string[],
  idpGroups: readonly string[],
  mappings: readonly GroupMapping[],
): string[] {
  const managed = new Set(mappings.map((m) => m.group));
  const kept = existing.filter((g) => !managed.has(g));
  return [...new Set([...kept, ...mapIdpGroups(idpGroups, mappings)])].sort();
}
