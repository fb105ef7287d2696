/**
 * Validation markers: the JSDoc tags that the CRD generator turns into OpenAPI schema keywords, like
 * kubebuilder's `+kubebuilder:validation:*` comments. Parsing is pure so it can be tested on its own.
 */

/** A CEL rule, as in `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
}

/** Schema keywords a field or type can carry. */
export interface FieldMarkers {
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  listType?: "atomic" | "set" | "map";
  listMapKeys?: string[];
  preserveUnknownFields?: boolean;
  validations?: CelRule[];
  /** Markers for the items of an array, written `@items<Marker>`, for example `@itemsPattern`. */
  items?: FieldMarkers;
}

/** Resource-level markers on a kind's root interface. */
export interface ResourceMarkers {
  plural?: string;
  shortNames: string[];
  printColumns: PrintColumn[];
  /** JSON paths of spec fields the apiserver can filter lists by (`selectableFields`, field selectors). */
  selectableFields: string[];
  /** CEL rules on the whole object, for what spans fields or concerns metadata.name. */
  validations: CelRule[];
}

/** An additionalPrinterColumns entry. */
export interface PrintColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

/** A JSDoc tag as read from the source: its name and the text after it. */
export interface Tag {
  name: string;
  text: string;
}

/** An error in a marker, naming where it is so the author can fix it. */
export class MarkerError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "MarkerError";
  }
}

const numberMarkers = [
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
] as const;
const resourceTags = new Set(["plural", "shortName", "printColumn", "selectableField"]);
const listTypes = new Set(["atomic", "set", "map"]);

function parseJson(where: string, tag: Tag): unknown {
  try {
    return JSON.parse(tag.text);
  } catch (err) {
    throw new MarkerError(where, `@${tag.name} must be followed by JSON: ${(err as Error).message}`);
  }
}

function parseNumber(where: string, tag: Tag): number {
  const n = Number(tag.text);
  if (tag.text === "" || !Number.isFinite(n)) throw new MarkerError(where, `@${tag.name} needs a number`);
  return n;
}

function parseCelRule(where: string, tag: Tag): CelRule {
  const value = parseJson(where, tag);
  if (typeof value !== "object" || value === null || typeof (value as CelRule).rule !== "string") {
    throw new MarkerError(where, `@xValidation needs an object with a "rule" string`);
  }
  return value as CelRule;
}

function applyFieldTag(where: string, markers: FieldMarkers, tag: Tag): void {
  const name = tag.name;
  if ((numberMarkers as readonly string[]).includes(name)) {
    markers[name as (typeof numberMarkers)[number]] = parseNumber(where, tag);
    return;
  }
  switch (name) {
    case "pattern":
      if (tag.text === "") throw new MarkerError(where, "@pattern needs a regular expression");
      // A JSDoc comment cannot hold "*/", so patterns write "\/" where they mean "/".
      markers.pattern = tag.text;
      return;
    case "format":
      markers.format = tag.text;
      return;
    case "default":
      markers.default = parseJson(where, tag);
      return;
    case "listType":
      if (!listTypes.has(tag.text)) throw new MarkerError(where, "@listType must be atomic, set or map");
      markers.listType = tag.text as FieldMarkers["listType"];
      return;
    case "listMapKey":
      markers.listMapKeys = [...(markers.listMapKeys ?? []), tag.text];
      return;
    case "preserveUnknownFields":
      markers.preserveUnknownFields = true;
      return;
    case "xValidation":
      markers.validations = [...(markers.validations ?? []), parseCelRule(where, tag)];
      return;
    default:
      throw new MarkerError(where, `unknown marker @${name}`);
  }
}

/** Reads the schema markers among a field's or type's tags. Resource-level tags are ignored here. */
export function parseFieldMarkers(where: string, tags: readonly Tag[]): FieldMarkers {
  const markers: FieldMarkers = {};
  for (const tag of tags) {
    if (resourceTags.has(tag.name)) continue;
    const itemMarker = /^items([A-Z])(.*)$/.exec(tag.name);
    if (itemMarker) {
      markers.items ??= {};
      const name = `${(itemMarker[1] ?? "").toLowerCase()}${itemMarker[2] ?? ""}`;
      applyFieldTag(where, markers.items, { name, text: tag.text });
    } else {
      applyFieldTag(where, markers, tag);
    }
  }
  if (markers.listType === "map" && !markers.listMapKeys?.length) {
    throw new MarkerError(where, "@listType map needs at least one @listMapKey");
  }
  return markers;
}

/** Reads the resource markers of a kind's root interface. */
export function parseResourceMarkers(where: string, tags: readonly Tag[]): ResourceMarkers {
  const markers: ResourceMarkers = {
    shortNames: [],
    printColumns: [],
    selectableFields: [],
    validations: [],
  };
  for (const tag of tags) {
    if (tag.name === "plural") markers.plural = tag.text;
    if (tag.name === "shortName") markers.shortNames.push(tag.text);
    if (tag.name === "printColumn") {
      const column = parseJson(where, tag) as PrintColumn;
      if (!column.name || !column.type || !column.jsonPath) {
        throw new MarkerError(where, "@printColumn needs name, type and jsonPath");
      }
      markers.printColumns.push(column);
    }
    if (tag.name === "selectableField") {
      if (!tag.text.startsWith(".spec."))
        throw new MarkerError(where, "@selectableField needs a path under .spec");
      markers.selectableFields.push(tag.text);
    }
    if (tag.name === "xValidation") markers.validations.push(parseCelRule(where, tag));
  }
  return markers;
}
