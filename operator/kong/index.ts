/** The Kong sync engine's public API; controllers import from here. See README.md. */
export * from "./admin-client.ts";
export * from "./desired.ts";
export * from "./diff.ts";
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./ledger.ts";
export * from "./retry.ts";
export * from "./state.ts";
export * from "./sync.ts";
export * from "./tags.ts";
