/**
 * The top-level fields in which two JSON records differ, each as "name: saved in the
 * checkpoint, now", compared by their JSON text. Trainers use it to refuse a resume whose
 * configuration is not the checkpoint's.
 */
export function recordDifferences(saved: object, now: object): string[] {
  const a = saved as Record<string, unknown>;
  const b = now as Record<string, unknown>;
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[k]);
    const y = JSON.stringify(b[k]);
    if (x !== y) out.push(`${k}: ${x ?? 'unset'} in the checkpoint, ${y ?? 'unset'} now`);
  }
  return out;
}
