/**
 * Turns TypeScript types into structural OpenAPI v3 schemas as Kubernetes accepts them in a CRD.
 * Doc comments become descriptions; markers (see markers.ts) become keywords.
 */
import { type JSDocableNode, Node, type Symbol as TsSymbol, type Type } from "ts-morph";
import { type FieldMarkers, MarkerError, parseFieldMarkers, type Tag } from "./markers.ts";

/** The subset of JSONSchemaProps the generator emits, in the order it is written out. */
export interface Schema {
  description?: string;
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  format?: string;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: FieldMarkers["validations"];
}

/** The doc comment text and tags of a declaration. */
export function docOf(node: Node): { description: string; tags: Tag[] } {
  if (!Node.isJSDocable(node)) return { description: "", tags: [] };
  const docs = (node as JSDocableNode).getJsDocs();
  const description = docs
    // Source lines are wrapped for the editor; a paragraph is one line in the schema.
    .map((d) =>
      d
        .getDescription()
        .trim()
        .replace(/(?<!\n)\n(?!\n)/g, " "),
    )
    .filter(Boolean)
    .join("\n\n");
  const tags = docs.flatMap((d) =>
    d.getTags().map((t) => ({ name: t.getTagName(), text: (t.getCommentText() ?? "").trim() })),
  );
  return { description, tags };
}

const integerAliases: Record<string, string> = { Int32: "int32", Int64: "int64" };

const keywordMarkers = [
  "format",
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
] as const;

function applyMarkers(where: string, schema: Schema, m: FieldMarkers): void {
  for (const key of keywordMarkers)
    if (m[key] !== undefined) (schema as Record<string, unknown>)[key] = m[key];
  if (m.preserveUnknownFields) schema["x-kubernetes-preserve-unknown-fields"] = true;
  if (m.listType) schema["x-kubernetes-list-type"] = m.listType;
  if (m.listMapKeys) schema["x-kubernetes-list-map-keys"] = m.listMapKeys;
  if (m.validations) {
    schema["x-kubernetes-validations"] = [...(schema["x-kubernetes-validations"] ?? []), ...m.validations];
  }
  if (m.items) {
    if (!schema.items) throw new MarkerError(where, "@items* markers need an array");
    applyMarkers(`${where}[]`, schema.items, m.items);
  }
}

/** Converts types to schemas; one instance per generator run. */
export class SchemaBuilder {
  /** Builds the schema of a property: its type's schema, its doc comment and its markers. */
  property(where: string, prop: TsSymbol): Schema {
    const decl = prop.getDeclarations()[0];
    if (!decl) throw new MarkerError(where, "property has no declaration");
    const doc = docOf(decl);
    const typeText = Node.isPropertySignature(decl) ? (decl.getTypeNode()?.getText() ?? "") : "";
    const schema = this.type(where, decl.getType().getNonNullableType(), typeText);
    if (doc.description) schema.description = doc.description;
    applyMarkers(where, schema, parseFieldMarkers(where, doc.tags));
    return schema;
  }

  /** Builds the schema of a type; typeText is the type as written, to tell Int32 from Int64. */
  type(where: string, type: Type, typeText = ""): Schema {
    const integer = integerAliases[typeText];
    if (integer) return { type: "integer", format: integer };
    if (type.isString()) return { type: "string" };
    if (type.isBoolean()) return { type: "boolean" };
    if (type.isNumber()) {
      throw new MarkerError(
        where,
        "use Int32 or Int64 from common.types.ts instead of number, so the schema says which",
      );
    }
    if (type.isStringLiteral()) return { type: "string", enum: [String(type.getLiteralValue())] };
    if (type.isUnion()) {
      const members = type.getUnionTypes();
      if (members.every((t) => t.isStringLiteral())) {
        return { type: "string", enum: members.map((t) => String(t.getLiteralValue())) };
      }
      throw new MarkerError(
        where,
        `unions other than of string literals are not supported: ${type.getText()}`,
      );
    }
    if (type.isArray()) {
      const element = type.getArrayElementTypeOrThrow();
      const elementText = typeText.endsWith("[]") ? typeText.slice(0, -2) : "";
      return { type: "array", items: this.type(`${where}[]`, element, elementText) };
    }
    if (type.isObject()) return this.object(where, type);
    throw new MarkerError(where, `unsupported type ${type.getText()}`);
  }

  private object(where: string, type: Type): Schema {
    const indexType = type.getStringIndexType();
    if (indexType) {
      if (indexType.isUnknown() || indexType.isAny()) return { type: "object" };
      return { type: "object", additionalProperties: this.type(`${where}{}`, indexType) };
    }
    const schema: Schema = { type: "object" };
    const declaration = type.getSymbol()?.getDeclarations()[0];
    const typeDoc = declaration ? docOf(declaration) : { description: "", tags: [] };
    if (typeDoc.description) schema.description = typeDoc.description;
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const prop of type.getProperties()) {
      const name = prop.getName();
      properties[name] = this.property(`${where}.${name}`, prop);
      if (!prop.isOptional()) required.push(name);
    }
    schema.properties = properties;
    if (required.length > 0) schema.required = required;
    applyMarkers(where, schema, parseFieldMarkers(where, typeDoc.tags));
    return schema;
  }
}
