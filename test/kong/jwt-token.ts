// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// JWT decoding and signature verification with node:crypto, after kong/plugins/jwt/jwt_parser.lua.
import { constants, createHmac, createPublicKey, timingSafeEqual, verify } from "node:crypto";
import { isJsonObject, type JsonObject } from "./json.ts";

/** A decoded token: header and claims, with what the signature covers. */
export interface DecodedJwt {
  readonly header: JsonObject;
  readonly claims: JsonObject;
  readonly signingInput: string;
  readonly signature: Buffer;
}

const SUPPORTED = /^(HS|RS|PS|ES)(256|384|512)$|^EdDSA$/;

function base64UrlJson(part: string): unknown {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/** Decodes a compact JWT; the error is Kong's reason (`invalid JSON`, `invalid alg`), shown as `Bad token; …`. */
export function decodeJwt(token: string): DecodedJwt | { readonly error: string } {
  const [headerPart = "", claimsPart = "", signaturePart] = token.split(".", 3);
  let header: unknown;
  let claims: unknown;
  try {
    header = base64UrlJson(headerPart);
    claims = base64UrlJson(claimsPart);
  } catch {
    return { error: "invalid JSON" };
  }
  if (!isJsonObject(header) || typeof header.alg !== "string" || !SUPPORTED.test(header.alg)) {
    return { error: "invalid alg" };
  }
  if (!isJsonObject(claims)) return { error: "invalid claims" };
  if (signaturePart === undefined) return { error: "invalid signature" };
  return {
    header,
    claims,
    signingInput: `${headerPart}.${claimsPart}`,
    signature: Buffer.from(signaturePart, "base64url"),
  };
}

/** Verifies a token's signature with the credential's secret (HS*) or public key (RS*, PS*, ES*, EdDSA). */
export function verifyJwtSignature(algorithm: string, jwt: DecodedJwt, key: string | Buffer): boolean {
  const data = Buffer.from(jwt.signingInput);
  const bits = algorithm.slice(2);
  try {
    if (algorithm.startsWith("HS")) {
      const expected = createHmac(`sha${bits}`, key).update(data).digest();
      return expected.length === jwt.signature.length && timingSafeEqual(expected, jwt.signature);
    }
    const publicKey = createPublicKey(key);
    if (algorithm === "EdDSA") return verify(null, data, publicKey, jwt.signature);
    if (algorithm.startsWith("PS")) {
      return verify(
        `sha${bits}`,
        data,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 },
        jwt.signature,
      );
    }
    if (algorithm.startsWith("ES")) {
      return verify(`sha${bits}`, data, { key: publicKey, dsaEncoding: "ieee-p1363" }, jwt.signature);
    }
    return verify(`sha${bits}`, data, publicKey, jwt.signature);
  } catch {
    return false;
  }
}

/** Kong's registered-claims check: only `exp` and `nbf`, only when listed in `claims_to_verify`. */
export function verifyRegisteredClaims(
  claims: JsonObject,
  toVerify: readonly string[],
  nowSeconds: number,
): JsonObject | undefined {
  const errors: JsonObject = {};
  for (const name of toVerify) {
    const value = claims[name];
    if (typeof value !== "number") errors[name] = "must be a number";
    else if (name === "exp" && value <= nowSeconds) errors[name] = "token expired";
    else if (name === "nbf" && value > nowSeconds) errors[name] = "token not valid yet";
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}
