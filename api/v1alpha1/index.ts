/** The wicked.dev/v1alpha1 API: one file per kind, shared types in common.types.ts. */
export * from "./api.types.ts";
export * from "./apiclient.types.ts";
export * from "./apiportal.types.ts";
export * from "./common.types.ts";
export * from "./plan.types.ts";
export * from "./subscription.types.ts";
