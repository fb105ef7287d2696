/**
 * TypeScript's JavaScript compiler API, as openapi-typescript imports it (`import ts from "typescript"`): the
 * copy ts-morph ships, since TypeScript 7, the project's compiler, has no such API (generate.ts sends
 * openapi-typescript's imports of "typescript" here).
 */
import { ts } from "ts-morph";

export default ts;
