import { describe, expect, it } from "vitest";
import {
  CLIENT_ADDRESS_HEADER,
  CLIENT_SIGNATURE_HEADER,
  clientAddressKey,
  forwardedClientAddress,
  forwardedClientHeaders,
} from "./client-address.ts";

const key = clientAddressKey("a-session-key-of-some-length");

describe("security #8: the client address the portal UI forwards", () => {
  it("security #8: is accepted only with the signature of the portal's own key", () => {
    const headers = forwardedClientHeaders(key, "203.0.113.9");
    expect(headers[CLIENT_ADDRESS_HEADER]).toBe("203.0.113.9");
    expect(forwardedClientAddress(headers, key)).toEqual({ address: "203.0.113.9" });

    // Another portal's key, a changed address, a missing signature: not trusted, and said so.
    const other = clientAddressKey("another-session-key-entirely");
    expect(forwardedClientAddress(headers, other)).toEqual({ invalid: true });
    expect(forwardedClientAddress({ ...headers, [CLIENT_ADDRESS_HEADER]: "203.0.113.10" }, key)).toEqual({
      invalid: true,
    });
    expect(forwardedClientAddress({ [CLIENT_ADDRESS_HEADER]: "203.0.113.9" }, key)).toEqual({
      invalid: true,
    });
    expect(
      forwardedClientAddress(
        { [CLIENT_ADDRESS_HEADER]: "not an address", [CLIENT_SIGNATURE_HEADER]: "x" },
        key,
      ),
    ).toEqual({ invalid: true });
    // No header at all: nothing forwarded; a component without the key trusts nobody.
    expect(forwardedClientAddress({}, key)).toEqual({});
    expect(forwardedClientAddress(headers, undefined)).toEqual({});
  });

  it("security #8: derives a key of its own from the session key", () => {
    expect(clientAddressKey("a-session-key-of-some-length")).toBe(key);
    expect(key).not.toBe(clientAddressKey("another-session-key-entirely"));
    expect(key).not.toContain("a-session-key");
  });
});
