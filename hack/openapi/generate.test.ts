import { describe, expect, it } from "vitest";
import { GENERATED_TYPES, generateApiTypes, isStale, portalApiDocument } from "./generate.ts";

describe("the portal UI's API types", () => {
  it(`the committed ${GENERATED_TYPES} matches the portal API's document (run \`make openapi\` when this fails)`, async () => {
    const content = await generateApiTypes(await portalApiDocument());
    expect(content.split("*/")[0]).toContain("Do not edit");
    expect(content).toContain("listApis: {");
    expect(isStale(content)).toBe(false);
  });
});
