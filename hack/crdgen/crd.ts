/**
 * Builds CustomResourceDefinition objects from the kinds in api/v1alpha1 and renders them as YAML.
 */
import { type InterfaceDeclaration, Project } from "ts-morph";
import YAML from "yaml";
import { MarkerError, parseResourceMarkers } from "./markers.ts";
import { docOf, type Schema, SchemaBuilder } from "./schema.ts";

/** Category every wicked kind belongs to, so `kubectl get wicked` lists them all. */
export const CATEGORY = "wicked";

/** A generated CRD file: its name under crds/ and its content. */
export interface GeneratedFile {
  path: string;
  content: string;
}

/** What the generator needs to know about the API package. */
export interface GenerateOptions {
  group: string;
  version: string;
  /** Paths (or globs) of the `*.types.ts` files. */
  sources: string[];
  /** An existing project, for tests that generate from in-memory sources. */
  project?: Project;
}

/** A kind's root interface: it declares apiVersion, kind, metadata and spec. */
function isRootKind(decl: InterfaceDeclaration): boolean {
  const names = new Set(decl.getProperties().map((p) => p.getName()));
  return names.has("apiVersion") && names.has("kind") && names.has("spec") && names.has("metadata");
}

/** Puts schema keys in a stable, readable order: description first, nested schemas last. */
function ordered(schema: Schema): Schema {
  const order: Array<keyof Schema> = [
    "description",
    "type",
    "format",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "required",
    "items",
    "additionalProperties",
    "properties",
    "x-kubernetes-validations",
  ];
  const out: Record<string, unknown> = {};
  for (const key of order) {
    const value = schema[key];
    if (value === undefined) continue;
    if (key === "items" || key === "additionalProperties") out[key] = ordered(value as Schema);
    else if (key === "properties") {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, ordered(v)]),
      );
    } else out[key] = value;
  }
  return out as Schema;
}

/** Builds the CRD of one kind. */
export function crdFor(decl: InterfaceDeclaration, group: string, version: string): Record<string, unknown> {
  const kind = decl.getName();
  const where = kind;
  const doc = docOf(decl);
  const resource = parseResourceMarkers(where, doc.tags);
  if (!resource.plural) throw new MarkerError(where, "a kind needs @plural");
  const builder = new SchemaBuilder();
  const type = decl.getType();
  const propertySchema = (name: string): Schema | undefined => {
    const prop = type.getProperty(name);
    return prop ? builder.property(`${kind}.${name}`, prop) : undefined;
  };
  const spec = propertySchema("spec");
  const status = propertySchema("status");
  const properties: Record<string, Schema> = {
    apiVersion: {
      description:
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.",
      type: "string",
    },
    kind: {
      description:
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.",
      type: "string",
    },
    metadata: { type: "object" },
  };
  if (spec) properties.spec = spec;
  if (status) properties.status = status;
  const root: Schema = {
    description: doc.description,
    type: "object",
    required: ["spec"],
    properties,
    ...(resource.validations.length > 0 ? { "x-kubernetes-validations": resource.validations } : {}),
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${resource.plural}.${group}` },
    spec: {
      group,
      names: {
        kind,
        listKind: `${kind}List`,
        plural: resource.plural,
        singular: kind.toLowerCase(),
        ...(resource.shortNames.length > 0 ? { shortNames: resource.shortNames } : {}),
        categories: [CATEGORY],
      },
      scope: "Namespaced",
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          ...(status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: resource.printColumns,
          ...(resource.selectableFields.length > 0
            ? { selectableFields: resource.selectableFields.map((jsonPath) => ({ jsonPath })) }
            : {}),
          schema: { openAPIV3Schema: ordered(root) },
        },
      ],
    },
  };
}

/** Renders a CRD with the do-not-edit header naming its source. */
export function renderCrd(crd: Record<string, unknown>, source: string): string {
  const header = `# Code generated by \`make crds\` from ${source}. DO NOT EDIT.\n`;
  return header + YAML.stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Generates one CRD file per kind found in the sources, sorted by file name. */
export function generateCrds(options: GenerateOptions): GeneratedFile[] {
  const project =
    options.project ??
    new Project({
      skipAddingFilesFromTsConfig: true,
      compilerOptions: { strict: true, allowImportingTsExtensions: true, noEmit: true },
    });
  if (!options.project) project.addSourceFilesAtPaths(options.sources);
  const files: GeneratedFile[] = [];
  for (const sourceFile of project.getSourceFiles()) {
    for (const decl of sourceFile.getInterfaces().filter(isRootKind)) {
      const crd = crdFor(decl, options.group, options.version);
      const plural = (crd.metadata as { name: string }).name;
      const source = sourceFile.getFilePath().replace(`${process.cwd()}/`, "");
      files.push({ path: `${options.group}_${plural.split(".")[0]}.yaml`, content: renderCrd(crd, source) });
    }
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}
