/**
 * Tags on every Kong entity wicked creates. Entities without them are never read for diffing, changed or
 * deleted, so a Kong can be shared with other tools. Kong tags are printable ASCII without `,` and `/`.
 */

/** Carried by every entity wicked manages. */
export const MANAGED_TAG = "managed-by-wicked";

/** Names the portal an entity belongs to. */
export function portalTag(namespace: string, name: string): string {
  return `wicked-portal:${namespace}.${name}`;
}
