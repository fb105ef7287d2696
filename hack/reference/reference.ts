/**
 * Renders the API reference (docs/reference.md) from the generated CRDs: one section per kind with its
 * names, printer columns, and every spec and status field with type, constraints, default and the CEL rules
 * that apply to it. Pure: CRD objects in, markdown out.
 */

/** The part of an OpenAPI v3 schema (as in a CRD) the reference shows. */
export interface Schema {
  description?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: Array<{ rule: string; message?: string }>;
}

/** The part of a CustomResourceDefinition the reference shows. */
export interface Crd {
  spec: {
    group: string;
    names: { kind: string; plural: string; singular?: string; shortNames?: string[]; categories?: string[] };
    scope: string;
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      additionalPrinterColumns?: Array<{ name: string; type: string; jsonPath: string; priority?: number }>;
      schema: { openAPIV3Schema: Schema };
    }>;
  };
}

/** Order of the kinds in the reference: the portal first, then what lives in it, as DESIGN.md lists them. */
const KIND_ORDER = ["ApiPortal", "Api", "Plan", "ApiClient", "Subscription"];

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
/** Plain text from the CRDs, with what markdown would read as markup (tags, emphasis) escaped. */
const prose = (text: string) => text.replace(/[<>*_\\[\]]/g, (c) => `\\${c}`);
const code = (text: string) => (text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``);

function typeOf(s: Schema): string {
  if (s["x-kubernetes-preserve-unknown-fields"] && !s.properties) return "object (any fields)";
  if (s.type === "array") return `[]${s.items ? typeOf(s.items) : "any"}`;
  if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object")
    return `map[string]${typeOf(s.additionalProperties)}`;
  return s.format && s.type !== "string" ? `${s.type} (${s.format})` : (s.type ?? "any");
}

function range(what: string, min?: number, max?: number): string | undefined {
  if (min !== undefined && max !== undefined) return `${what} ${min}–${max}`;
  if (min !== undefined) return `${what} at least ${min}`;
  if (max !== undefined) return `${what} at most ${max}`;
  return undefined;
}

function constraints(s: Schema, required: boolean): string[] {
  const out: string[] = [];
  if (required) out.push("**Required.**");
  if (s.default !== undefined) out.push(`Default: ${code(JSON.stringify(s.default))}.`);
  if (s.enum) out.push(`One of: ${s.enum.map((v) => code(String(v))).join(", ")}.`);
  if (s.format && s.type === "string") out.push(`Format: ${s.format}.`);
  if (s.pattern) out.push(`Pattern: ${code(s.pattern)}.`);
  for (const r of [
    range("Length", s.minLength, s.maxLength),
    range("Value", s.minimum, s.maximum),
    range("Items", s.minItems, s.maxItems),
    range("Fields", s.minProperties, s.maxProperties),
  ])
    if (r) out.push(`${r}.`);
  const listType = s["x-kubernetes-list-type"];
  if (listType === "set") out.push("Items are unique.");
  if (listType === "map")
    out.push(`Items are keyed by ${(s["x-kubernetes-list-map-keys"] ?? []).map(code).join(", ")}.`);
  for (const v of s["x-kubernetes-validations"] ?? [])
    out.push(`Rule: ${v.message ? prose(v.message) : code(v.rule)}.`);
  const items = s.items;
  if (items && !items.properties) {
    const inner = constraints(items, false).map(
      (c) => `Each item: ${c.charAt(0).toLowerCase()}${c.slice(1)}`,
    );
    out.push(...inner);
  }
  return out;
}

/** The rows of a field table: every field below `schema`, depth first, in the CRD's order. */
function rows(path: string, schema: Schema, out: string[]): void {
  const required = new Set(schema.required ?? []);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const field = `${path}.${name}`;
    const text = [prose(child.description ?? ""), ...constraints(child, required.has(name))]
      .filter(Boolean)
      .join(" ");
    out.push(`| ${code(field)} | ${cell(typeOf(child))} | ${cell(text)} |`);
    if (child.properties) rows(field, child, out);
    else if (child.items?.properties) rows(`${field}[]`, child.items, out);
    else if (typeof child.additionalProperties === "object" && child.additionalProperties.properties)
      rows(`${field}.<key>`, child.additionalProperties, out);
  }
}

function table(path: string, schema: Schema | undefined): string[] {
  if (!schema?.properties) return ["This kind has no fields here."];
  const out = ["| Field | Type | Description |", "| --- | --- | --- |"];
  const rules = (schema["x-kubernetes-validations"] ?? []).map(
    (v) => `- ${v.message ? prose(v.message) : code(v.rule)}`,
  );
  rows(path, schema, out);
  return rules.length > 0 ? [`Rules on the whole \`${path}\`:`, "", ...rules, "", ...out] : out;
}

function anchor(kind: string): string {
  return kind.toLowerCase();
}

function section(crd: Crd): string[] {
  const { group, names, scope } = crd.spec;
  const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
  if (!version) return [];
  const root = version.schema.openAPIV3Schema;
  const facts = [
    `\`apiVersion: ${group}/${version.name}\``,
    `\`kind: ${names.kind}\``,
    scope === "Namespaced" ? "namespaced" : "cluster-scoped",
    `resource \`${names.plural}\``,
    ...(names.shortNames?.length ? [`short names ${names.shortNames.map(code).join(", ")}`] : []),
    ...(names.categories?.length ? [`categories ${names.categories.map(code).join(", ")}`] : []),
  ];
  const columns = version.additionalPrinterColumns ?? [];
  return [
    `## ${names.kind}`,
    "",
    facts.join(" · "),
    "",
    prose(root.description ?? ""),
    "",
    ...(columns.length > 0
      ? [
          `### \`kubectl get ${names.plural}\``,
          "",
          "| Column | Shows | Only with `-o wide` |",
          "| --- | --- | --- |",
          ...columns.map((c) => `| ${c.name} | ${code(c.jsonPath)} | ${c.priority ? "yes" : ""} |`),
          "",
        ]
      : []),
    "### Spec",
    "",
    ...table("spec", root.properties?.spec),
    "",
    "### Status",
    "",
    ...table("status", root.properties?.status),
    "",
  ];
}

/** The whole reference for a set of CRDs. */
export function renderReference(crds: Crd[]): string {
  const sorted = [...crds].sort(
    (a, b) =>
      (KIND_ORDER.indexOf(a.spec.names.kind) + 1 || 99) - (KIND_ORDER.indexOf(b.spec.names.kind) + 1 || 99) ||
      a.spec.names.kind.localeCompare(b.spec.names.kind),
  );
  const lines = [
    "<!-- Code generated by hack/reference from crds/*.yaml. DO NOT EDIT. Regenerate: npx tsx hack/reference/main.ts -->",
    "",
    "# API reference",
    "",
    "wicked's custom resources, generated from the CRDs (which `make crds` generates from the types in",
    "`api/v1alpha1/`). `kubectl explain <kind>.spec` shows the same descriptions in a cluster. Every kind has",
    "the conditions `Ready` and friends in `status.conditions`, so `kubectl wait --for=condition=Ready` works.",
    "",
    ...sorted.map((c) => `- [${c.spec.names.kind}](#${anchor(c.spec.names.kind)})`),
    "",
    ...sorted.flatMap(section),
  ];
  return `${lines
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()}\n`;
}
