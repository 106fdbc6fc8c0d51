import { SpotdiffError } from '../util/errors.js';
import { methodInfo, methodInfos, methodNames } from '../detect/registry.js';
import type { DetectorMethodInfo } from '../detect/method.js';

/** The registered detector methods, "a or b" / "a, b or c", for flag errors. */
function choices(): string {
  const names = methodNames();
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** name1|name2|... for usage lines. */
export function methodChoices(): string {
  return methodNames().join('|');
}

/** One indented line per registered method: name and summary, for usage texts. */
export function methodList(indent = '  '): string {
  const infos = methodInfos();
  const width = Math.max(...infos.map((m) => m.name.length));
  return infos.map((m) => `${indent}${m.name.padEnd(width)}  ${m.summary}${m.kind === 'two-class' ? ' [needs labelled anomalies in the train split]' : ''}`).join('\n');
}

/** A `--<flag>` naming a registered detector method; ERR_USAGE naming the known ones otherwise. Engine-free. */
export function methodFlag(value: string, flag = 'method'): DetectorMethodInfo {
  if (!methodNames().includes(value)) throw new SpotdiffError('ERR_USAGE', `--${flag} must be ${choices()}, got "${value}"`);
  return methodInfo(value);
}
