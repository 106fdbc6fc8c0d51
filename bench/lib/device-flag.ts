// The --device word of a bench, checked without loading the engine (a bench whose measuring
// children must not carry the addon's memory reads it from here).

export type BenchDevice = 'cpu' | 'cuda';

/** The --device value (default cpu), checked; any other word is a usage error (exit 2). */
export function benchDevice(value: string | undefined): BenchDevice {
  const d = value ?? 'cpu';
  if (d !== 'cpu' && d !== 'cuda') usageExit(`--device takes cpu or cuda, got "${d}"`);
  return d;
}

export function usageExit(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}
