// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
import { randomBytes } from "node:crypto";

/** A source of uniformly distributed numbers in [0, 1). */
export type RandomSource = () => number;

/**
 * A seedable pseudo-random source (mulberry32), so that tests injecting faults by probability are
 * reproducible: the same seed gives the same sequence.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32 lowercase hex characters, the shape of the keys and secrets Kong generates (`utils.random_string`). */
export function randomKongString(): string {
  return randomBytes(16).toString("hex");
}
