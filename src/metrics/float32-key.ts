/**
 * An order-preserving map between float32 values and unsigned 32-bit keys: a < b as floats
 * exactly when key(a) < key(b). Positive floats get the sign bit set; negative floats have all
 * bits flipped so that larger magnitudes sort lower. -0 is folded onto +0 first, since the two
 * are the same score (a tie) for every metric.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The key of a float32 given by its raw bit pattern (non-finite patterns are the caller's concern). */
export function keyOfBits(bits: number): number {
  if (bits === 0x80000000) return 0x80000000; // -0 -> key of +0
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** The float32 value (as a JS number) whose key is `key`. */
export function valueOfKey(key: number): number {
  u32[0] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return f32[0] as number;
}

/** True when a float32 bit pattern is NaN or +-Infinity. */
export function isNonFiniteBits(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000;
}
