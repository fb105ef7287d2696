// Unit tests of the Kong test double's JWT verification: every algorithm the double accepts, with node:crypto.
import { constants, createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeJwt, verifyJwtSignature, verifyRegisteredClaims } from "./jwt-token.ts";

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function token(alg: string, signer: (input: Buffer) => Buffer): string {
  const input = `${encode({ alg, typ: "JWT" })}.${encode({ iss: "k" })}`;
  return `${input}.${signer(Buffer.from(input)).toString("base64url")}`;
}

function decoded(value: string) {
  const jwt = decodeJwt(value);
  if ("error" in jwt) throw new Error(jwt.error);
  return jwt;
}

function pem(key: KeyObject): string {
  return key.export({ type: "spki", format: "pem" }).toString();
}

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });

const cases: { alg: string; sign: (input: Buffer) => Buffer; key: string; wrongKey: string }[] = [
  ...(["256", "384", "512"] as const).map((bits) => ({
    alg: `RS${bits}`,
    sign: (input: Buffer) => sign(`sha${bits}`, input, rsa.privateKey),
    key: pem(rsa.publicKey),
    wrongKey: pem(otherRsa.publicKey),
  })),
  {
    alg: "PS256",
    sign: (input: Buffer) =>
      sign("sha256", input, {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      }),
    key: pem(rsa.publicKey),
    wrongKey: pem(otherRsa.publicKey),
  },
  ...(() => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const otherEc = generateKeyPairSync("ec", { namedCurve: "P-256" });
    return [
      {
        alg: "ES256",
        sign: (input: Buffer) => sign("sha256", input, { key: ec.privateKey, dsaEncoding: "ieee-p1363" }),
        key: pem(ec.publicKey),
        wrongKey: pem(otherEc.publicKey),
      },
    ];
  })(),
  ...(() => {
    const ed = generateKeyPairSync("ed25519");
    const otherEd = generateKeyPairSync("ed25519");
    return [
      {
        alg: "EdDSA",
        sign: (input: Buffer) => sign(null, input, ed.privateKey),
        key: pem(ed.publicKey),
        wrongKey: pem(otherEd.publicKey),
      },
    ];
  })(),
  {
    alg: "HS256",
    sign: (input: Buffer) => createHmac("sha256", "s3cret").update(input).digest(),
    key: "s3cret",
    wrongKey: "not-the-secret",
  },
];

describe("JWT signature verification", () => {
  for (const c of cases) {
    it(`${c.alg}: accepts the right key and rejects another`, () => {
      const jwt = decoded(token(c.alg, c.sign));
      expect(verifyJwtSignature(c.alg, jwt, c.key)).toBe(true);
      expect(verifyJwtSignature(c.alg, jwt, c.wrongKey)).toBe(false);
    });
  }

  it("rejects a token whose payload was changed after signing", () => {
    const [header, , signature] = token("RS256", (input) => sign("sha256", input, rsa.privateKey)).split(".");
    const forged = decoded(`${header}.${encode({ iss: "someone-else" })}.${signature}`);
    expect(verifyJwtSignature("RS256", forged, pem(rsa.publicKey))).toBe(false);
  });
});

describe("JWT decoding", () => {
  it("gives Kong's reasons for tokens it cannot decode", () => {
    expect(decodeJwt("not-a-token")).toEqual({ error: "invalid JSON" });
    expect(decodeJwt(`${encode({ alg: "none" })}.${encode({})}.`)).toEqual({ error: "invalid alg" });
    expect(decodeJwt(`${encode({ alg: "HS256" })}.${encode({})}`)).toEqual({ error: "invalid signature" });
  });
});

describe("registered claims", () => {
  it("checks only the listed claims: exp must be in the future, nbf in the past, both numbers", () => {
    expect(verifyRegisteredClaims({ exp: 100 }, [], 200)).toBeUndefined();
    expect(verifyRegisteredClaims({ exp: 100 }, ["exp"], 200)).toEqual({ exp: "token expired" });
    expect(verifyRegisteredClaims({ exp: 200 }, ["exp"], 200)).toEqual({ exp: "token expired" });
    expect(verifyRegisteredClaims({ exp: 201 }, ["exp"], 200)).toBeUndefined();
    expect(verifyRegisteredClaims({ nbf: 300 }, ["nbf"], 200)).toEqual({ nbf: "token not valid yet" });
    expect(verifyRegisteredClaims({ exp: "soon" }, ["exp"], 200)).toEqual({ exp: "must be a number" });
  });
});
