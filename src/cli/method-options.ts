import { SpotdiffError } from '../util/errors.js';
import type { DetectorMethodInfo } from '../detect/method.js';
import { intFlag, numberFlag } from './args.js';

/**
 * The method flags of fit (and of any command that fits): each maps onto one key of
 * FitContext.options. A flag whose key the method does not take is a usage error; the values'
 * meaning (ranges, combinations) is checked again by the method.
 */
interface MethodOptionFlag {
  flag: string;
  key: string;
  parse: (value: string, flag: string) => unknown;
}

const choice =
  (...allowed: string[]) =>
  (v: string, flag: string): string => {
    if (!allowed.includes(v)) throw new SpotdiffError('ERR_USAGE', `--${flag} must be ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
    return v;
  };

export const METHOD_OPTION_FLAGS: readonly MethodOptionFlag[] = [
  { flag: 'coreset-ratio', key: 'coresetRatio', parse: (v, f) => numberFlag(v, f, 0.1, { above: 0, max: 1 }) },
  { flag: 'protocol', key: 'protocol', parse: choice('high-shot', 'few-shot') },
  { flag: 'shots', key: 'shots', parse: (v, f) => intFlag(v, f, 0, 1) },
  { flag: 'run', key: 'run', parse: (v, f) => intFlag(v, f, 0, 0) },
  { flag: 'epochs', key: 'epochs', parse: (v, f) => intFlag(v, f, 0, 1) },
  { flag: 'iterations', key: 'iterations', parse: (v, f) => intFlag(v, f, 0, 1) },
  { flag: 'lr', key: 'lr', parse: (v, f) => numberFlag(v, f, 0, { above: 0 }) },
  { flag: 'sync-bn', key: 'syncBn', parse: (v, f) => choice('on', 'off')(v, f) === 'on' },
  { flag: 'loss', key: 'loss', parse: choice('cross-entropy', 'focal') },
  { flag: 'gamma', key: 'gamma', parse: (v, f) => numberFlag(v, f, 0, { min: 0 }) },
  { flag: 'alpha', key: 'alpha', parse: (v, f) => (v === 'none' ? null : numberFlag(v, f, 0, { min: 0, max: 1 })) },
  { flag: 'image-score', key: 'imageScore', parse: choice('max', 'top-k-mean') },
  { flag: 'top-k', key: 'topK', parse: (v, f) => intFlag(v, f, 0, 1) },
];

/** The flags' parseArgs declarations (all take a value). */
export function methodOptionFlagSpec(): Record<string, { type: 'string' }> {
  return Object.fromEntries(METHOD_OPTION_FLAGS.map((f) => [f.flag, { type: 'string' as const }]));
}

/** The method's options from the flags given; a flag the method does not take is a usage error. */
export function methodOptionsFromFlags(method: DetectorMethodInfo, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const f of METHOD_OPTION_FLAGS) {
    const v = values[f.flag];
    if (v === undefined) continue;
    if (!method.optionKeys.includes(f.key)) throw new SpotdiffError('ERR_USAGE', `--${f.flag} is not an option of ${method.name}`);
    options[f.key] = f.parse(String(v), f.flag);
  }
  return options;
}
