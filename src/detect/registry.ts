import { SpotdiffError } from '../util/errors.js';
import type { DetectorMethod, DetectorMethodInfo } from './method.js';
import { padimInfo } from './padim/info.js';
import { patchcoreInfo } from './patchcore/info.js';
import { classifierInfo } from './classifier/info.js';
import { segmenterInfo } from './segmenter/info.js';

/**
 * Every detector method by name. Adding one: a folder with an engine-free `DetectorMethodInfo`
 * (info.ts) and a `DetectorMethod` (method.ts), and one line here; fit, eval, predict,
 * benchmark, demo and the ablation then take it by name. This file stays free of the tensor
 * engine (the implementations load on first use), so the CLI checks `--method` and lists the
 * methods in its help before libtorch loads.
 */
const METHODS: readonly { info: DetectorMethodInfo; load: () => Promise<DetectorMethod> }[] = [
  { info: padimInfo, load: async () => (await import('./padim/method.js')).padimMethod },
  { info: patchcoreInfo, load: async () => (await import('./patchcore/method.js')).patchcoreMethod },
  { info: classifierInfo, load: async () => (await import('./classifier/method.js')).classifierMethod },
  { info: segmenterInfo, load: async () => (await import('./segmenter/method.js')).segmenterMethod },
];

/** The registered names, in registry order. */
export function methodNames(): string[] {
  return METHODS.map((m) => m.info.name);
}

/** What is known of every method without loading it, in registry order (for help texts). */
export function methodInfos(): DetectorMethodInfo[] {
  return METHODS.map((m) => m.info);
}

/** The method called `name`, unloaded; ERR_USAGE naming the known ones otherwise. */
export function methodInfo(name: string): DetectorMethodInfo {
  return entry(name).info;
}

/** The method called `name`, loaded; ERR_USAGE naming the known ones otherwise. */
export async function detectorMethod(name: string): Promise<DetectorMethod> {
  return entry(name).load();
}

function entry(name: string): (typeof METHODS)[number] {
  const m = METHODS.find((x) => x.info.name === name);
  if (m === undefined) throw new SpotdiffError('ERR_USAGE', `unknown detector method ${JSON.stringify(name)}; choose one of ${methodNames().join(', ')}`);
  return m;
}
