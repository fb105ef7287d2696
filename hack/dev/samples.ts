/**
 * config/samples as `make dev` applies them, as pure functions: the sample portal with the dev patch merged
 * in (local URLs, the local gateway and mail) and the sample Apis forwarding to the local echo upstream.
 * Applying them changed is what keeps a second `make dev` valid: patching after `kubectl apply` left fields
 * of both versions behind (an Api with both upstream.url and upstream.serviceRef, which the CRD refuses).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { mergePatch } from "../../controller-runtime/testing.ts";

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

/**
 * The samples with the portal patched, every Api's upstream at `upstreamUrl`, and `secrets` in place of the
 * samples' Secrets of the same name (the database URL among them), so one apply leaves each as make dev
 * wants it. Pure.
 */
export function devSamples<S extends { metadata?: { name?: string } } = never>(
  samples: Manifest[],
  portal: { name: string; patch: { spec: Record<string, unknown> } },
  upstreamUrl: string,
  secrets: S[] = [],
): Array<Manifest | S> {
  const replaced = new Set(secrets.map((s) => s.metadata?.name));
  const docs = samples
    .filter((doc) => !(doc.kind === "Secret" && replaced.has(doc.metadata?.name)))
    .map((doc) => {
      if (doc.kind === "ApiPortal" && doc.metadata?.name === portal.name)
        return mergePatch(doc, portal.patch) as Manifest;
      if (doc.kind === "Api")
        return mergePatch(doc, { spec: { upstream: { serviceRef: null, url: upstreamUrl } } }) as Manifest;
      return doc;
    });
  return [...docs, ...secrets];
}
