/**
 * `make openapi`: writes portal-ui/api-schema.generated.ts from the portal API's OpenAPI document. With
 * --check, writes nothing and exits 1 when the committed file is out of date.
 */
import { writeFileSync } from "node:fs";
import { GENERATED_TYPES, generateApiTypes, isStale, portalApiDocument } from "./generate.ts";

async function main(): Promise<void> {
  const content = await generateApiTypes(await portalApiDocument());
  if (process.argv.includes("--check")) {
    if (isStale(content)) {
      console.error(`${GENERATED_TYPES} is out of date: run \`make openapi\` and commit the result`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(GENERATED_TYPES, content);
  console.log(`Generated ${GENERATED_TYPES}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
