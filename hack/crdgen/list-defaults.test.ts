import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

type Schema = {
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
};

/** Paths of `default`s inside list items: each would make every re-apply of a manifest with that list a change. */
function defaultsInListItems(schema: Schema, path: string, inItem: boolean): string[] {
  const found = inItem && schema.default !== undefined ? [path] : [];
  for (const [name, child] of Object.entries(schema.properties ?? {}))
    found.push(...defaultsInListItems(child, `${path}.${name}`, inItem));
  if (schema.items) found.push(...defaultsInListItems(schema.items, `${path}[]`, true));
  if (typeof schema.additionalProperties === "object")
    found.push(...defaultsInListItems(schema.additionalProperties, `${path}.*`, inItem));
  return found;
}

describe("the generated CRDs", () => {
  it("put no default inside a list item (client-side apply and Argo CD would see a change on every sync)", () => {
    const found = readdirSync("crds").flatMap((file) => {
      const crd = YAML.parse(readFileSync(join("crds", file), "utf8"));
      return (crd.spec.versions as Array<{ name: string; schema: { openAPIV3Schema: Schema } }>).flatMap(
        (v) => defaultsInListItems(v.schema.openAPIV3Schema, `${crd.spec.names.kind}`, false),
      );
    });
    expect(found).toEqual([]);
  });
});
