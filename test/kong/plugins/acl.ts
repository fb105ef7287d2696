// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The acl plugin's access phase (kong/plugins/acl/handler.lua, Kong 3.9).
import { type CredentialDirectory, errorExit, type PluginHandler } from "./types.ts";

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Creates the acl handler: the authenticated consumer's groups against `allow` or `deny`. */
export function aclPlugin(directory: CredentialDirectory): PluginHandler {
  return {
    access(config, state) {
      const consumer = state.consumer;
      if (!consumer) {
        return state.credential
          ? errorExit(state, 403, "You cannot consume this service")
          : errorExit(state, 401, "Unauthorized");
      }
      const groups = directory.aclGroups(String(consumer.id));
      const deny = strings(config.deny);
      const listed = deny.length > 0 ? deny : strings(config.allow);
      const inGroup = groups.some((g) => listed.includes(g));
      const blocked = deny.length > 0 ? inGroup : !inGroup;
      if (blocked) return errorExit(state, 403, "You cannot consume this service");
      if (config.hide_groups_header !== true) state.upstreamHeaders["x-consumer-groups"] = groups.join(", ");
      return undefined;
    },
  };
}
