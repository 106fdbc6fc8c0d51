/** A score in the detector's units: four significant digits, exponent notation when very large or small. */
export function formatScore(v: number): string {
  const a = Math.abs(v);
  if (v !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}
