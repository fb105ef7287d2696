/**
 * Comparing desired objects with what the apiserver holds, so an in-sync reconcile makes no write at all:
 * a server-side apply of an unchanged intent is harmless but still a request, and a resync of a large world
 * must cost nothing. Pure.
 */

/** Deep equality that ignores object key order (the apiserver returns custom resources' keys sorted). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ak.length === bk.length &&
    ak.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/**
 * Whether every field the operator sets in `desired` already has that value in `actual`. Fields the apiserver
 * or others add (defaults, status, other managers' fields) are ignored; lists must match in length, item by
 * item, because the operator owns the lists it sets.
 */
export function isSubset(desired: unknown, actual: unknown): boolean {
  if (desired === undefined) return true;
  if (typeof desired !== "object" || desired === null) return desired === actual;
  if (typeof actual !== "object" || actual === null) return false;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      desired.length === actual.length &&
      desired.every((d, i) => isSubset(d, actual[i]))
    );
  }
  if (Array.isArray(actual)) return false;
  return Object.entries(desired).every(([k, v]) => isSubset(v, (actual as Record<string, unknown>)[k]));
}
