import { SpotdiffError } from '../util/errors.js';
import { methodInfo, methodInfos, methodNames } from '../detect/registry.js';
import type { DetectorMethodInfo } from '../detect/method.js';

type Kind = DetectorMethodInfo['kind'];

/** Registered method names, all or of one kind. */
function namesOf(kind?: Kind): string[] {
  return kind === undefined ? methodNames() : methodInfos().filter((m) => m.kind === kind).map((m) => m.name);
}

/** The registered detector methods (of `kind`), "a or b" / "a, b or c", for flag errors. */
function choices(kind?: Kind): string {
  const names = namesOf(kind);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** name1|name2|... for usage lines (only methods of `kind` when given). */
export function methodChoices(kind?: Kind): string {
  return namesOf(kind).join('|');
}

/** One indented line per registered method (of `kind` when given): name and summary, for usage texts. */
export function methodList(indent = '  ', kind?: Kind): string {
  const infos = methodInfos().filter((m) => kind === undefined || m.kind === kind);
  const width = Math.max(...infos.map((m) => m.name.length));
  return infos.map((m) => `${indent}${m.name.padEnd(width)}  ${m.summary}${m.kind === 'two-class' ? ' [needs labelled anomalies in the train split]' : ''}`).join('\n');
}

/** A `--<flag>` naming a registered detector method (of `kind` when given); ERR_USAGE naming the allowed ones otherwise. Engine-free. */
export function methodFlag(value: string, flag = 'method', kind?: Kind): DetectorMethodInfo {
  if (!namesOf(kind).includes(value)) throw new SpotdiffError('ERR_USAGE', `--${flag} must be ${choices(kind)}, got "${value}"`);
  return methodInfo(value);
}
