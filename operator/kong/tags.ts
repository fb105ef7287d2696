/**
 * Tags on every Kong entity wicked creates. Entities without them are never read for diffing, changed or
 * deleted, so a Kong can be shared with other tools. Kong tags are printable ASCII without `,` and `/`.
 */

/** Carried by every entity wicked manages. */
export const MANAGED_TAG = "managed-by-wicked";

/** Prefix of the tag naming the resource that owns an entity: `wicked-owner:<Kind>.<namespace>.<name>`. */
export const OWNER_TAG_PREFIX = "wicked-owner:";

/** Names the portal an entity belongs to. */
export function portalTag(namespace: string, name: string): string {
  return `wicked-portal:${namespace}.${name}`;
}

/**
 * The tags that select one portal's entities in Kong's `?tags=a,b` (AND) filter. Kong accepts at most five
 * tags in a filter; these are two.
 */
export function scopeTags(namespace: string, name: string): string[] {
  return [MANAGED_TAG, portalTag(namespace, name)];
}

/** The kinds of wicked resources that own Kong entities or hold the spec a Kong entity comes from. */
export type ResourceKind = "ApiPortal" | "Api" | "Plan" | "ApiClient" | "Subscription";

/** A wicked resource, named the way status messages and events name it. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly namespace: string;
  readonly name: string;
}

const RESOURCE_KINDS: readonly ResourceKind[] = ["ApiPortal", "Api", "Plan", "ApiClient", "Subscription"];

/** Replaces what Kong refuses in a tag (anything but printable ASCII, and `,` and `/`) by `_`. */
export function sanitizeTag(tag: string): string {
  return tag.replace(/[^\x21-\x7e]|[,/]/g, "_");
}

/**
 * Names the resource owning an entity. Namespaces cannot contain dots, kinds neither, so the tag parses back
 * unambiguously even though object names can contain dots.
 */
export function ownerTag(owner: ResourceRef): string {
  return sanitizeTag(`${OWNER_TAG_PREFIX}${owner.kind}.${owner.namespace}.${owner.name}`);
}

/** The owner named by an entity's tags, or undefined when it carries no (valid) owner tag. */
export function ownerFromTags(tags: readonly string[] | null | undefined): ResourceRef | undefined {
  for (const tag of tags ?? []) {
    if (!tag.startsWith(OWNER_TAG_PREFIX)) continue;
    const match = /^([A-Za-z]+)\.([^.]+)\.(.+)$/.exec(tag.slice(OWNER_TAG_PREFIX.length));
    const kind = RESOURCE_KINDS.find((k) => k === match?.[1]);
    if (kind && match?.[2] && match[3]) return { kind, namespace: match[2], name: match[3] };
  }
  return undefined;
}

/** `Api shop/orders`: how messages name a resource. */
export function describeResource(ref: ResourceRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** A stable string key of a resource, for maps and sets keyed by owner. */
export function resourceKey(ref: ResourceRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
