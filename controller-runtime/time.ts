/** Kubernetes' two timestamp formats, which the apiserver parses strictly. */

/** metav1.Time: RFC 3339 with second precision, e.g. `2025-01-02T03:04:05Z` (conditions, creationTimestamp). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * metav1.MicroTime: RFC 3339 with exactly six fractional digits, e.g. `2025-01-02T03:04:05.123000Z` (Lease
 * renewTime, Event eventTime). The apiserver rejects JavaScript's three-digit milliseconds here.
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * A timestamp read from an object as a Date, whatever its declared type: the runtime keeps the apiserver's
 * RFC 3339 strings, while client-node's models declare Dates. undefined when absent or unparsable.
 */
export function toDate(value: Date | string | undefined | null): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
