import type { ProcessGroup } from '../distributed/process-group.js';
import { joinLaunchedGroup, launchedWorkerDevice, type LaunchFlags } from './launch-flags.js';

/**
 * A benchmark worker's place in a `--nproc` job: its group (null in a one-process benchmark),
 * its device and how its progress lines read. Collectives wait as long as the slowest fit
 * takes (a rank with no fit left waits for the others'), so the group's collectives get a
 * timeout of days, not ProcessGroup's minutes (joining keeps the minutes: a machine that never
 * starts is reported soon); a rank that dies still fails them at once (its connections close)
 * and the launcher stops the others.
 */

export interface BenchmarkRank {
  group: ProcessGroup | null;
  /** The device this process fits on: with several processes on a machine, --device cuda becomes cuda:<local rank mod GPUs>. */
  device: string;
  /** A progress line as this process prints it ("[rank R] " before it in a job of several). */
  progressLine(line: string): string;
}

/** A week: longer than any one fit, short of hanging forever. */
const BENCHMARK_COLLECTIVE_TIMEOUT_MS = 7 * 24 * 3600 * 1000;

export async function benchmarkRank(launch: LaunchFlags | null, device: string): Promise<BenchmarkRank> {
  // The benchmark's collectives carry host tensors only (results, the work counter): Gloo.
  const { DEFAULT_TIMEOUT_MS } = await import('../distributed/process-group.js');
  const group = launch === null ? null : await joinLaunchedGroup({ timeoutMs: BENCHMARK_COLLECTIVE_TIMEOUT_MS, joinTimeoutMs: DEFAULT_TIMEOUT_MS });
  if (group === null) return { group, device, progressLine: (line) => line };
  return { group, device: await launchedWorkerDevice(device), progressLine: (line) => `[rank ${group.rank}] ${line}` };
}
