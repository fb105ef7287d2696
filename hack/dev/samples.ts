/**
 * config/samples as `make dev` applies them, as pure functions: the sample portal with the dev patch merged
 * in (local URLs, the local gateway and mail) and the sample Apis forwarding to the local echo upstream.
 * Applying them changed is what keeps a second `make dev` valid: patching after `kubectl apply` left fields
 * of both versions behind (an Api with both upstream.url and upstream.serviceRef, which the CRD refuses).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";

/** A manifest. */
export type Manifest = Record<string, unknown> & { kind?: string; metadata?: { name?: string } };

/** The documents of config/samples, in the order `kubectl apply -f config/samples/` applies them. */
export function readSamples(dir = "config/samples"): Manifest[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) => YAML.parseAllDocuments(readFileSync(join(dir, f), "utf8")))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

/** Applies a JSON merge patch (RFC 7386): objects merge, null removes, anything else replaces. Pure. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** The samples with the portal patched and every Api's upstream at `upstreamUrl`. Pure. */
export function devSamples(
  samples: Manifest[],
  portal: { name: string; patch: { spec: Record<string, unknown> } },
  upstreamUrl: string,
): Manifest[] {
  return samples.map((doc) => {
    if (doc.kind === "ApiPortal" && doc.metadata?.name === portal.name)
      return mergePatch(doc, portal.patch) as Manifest;
    if (doc.kind === "Api")
      return mergePatch(doc, { spec: { upstream: { serviceRef: null, url: upstreamUrl } } }) as Manifest;
    return doc;
  });
}
