/**
 * Label values are at most 63 characters, but object names may be longer. A name that does not fit is
 * shortened and made unique again with a hash of the whole name, so the label still tells objects apart.
 */
import { createHash } from "node:crypto";

/** The longest label value Kubernetes accepts. */
export const LABEL_VALUE_MAX = 63;

/** `value` itself when it fits in a label; otherwise its first characters, a dash and a hash of all of it. */
export function labelValue(value: string): string {
  if (value.length <= LABEL_VALUE_MAX) return value;
  const hash = createHash("sha256").update(value).digest("hex").slice(0, 10);
  return `${value.slice(0, LABEL_VALUE_MAX - hash.length - 1)}-${hash}`;
}
