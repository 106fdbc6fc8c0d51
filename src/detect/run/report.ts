import { writeReport, type PaperFigures, type Report } from '../../report/index.js';
import type { EvalResult } from './evaluate.js';
import { objectReport } from './evaluate.js';
import type { ModelManifest } from './model-folder.js';
import { methodInfo, methodNames } from '../registry.js';

/**
 * Writes the HTML report of one model's results on one or more objects (`manifests[i]`, when
 * given, is the model of results[i]; else `manifest` for all); returns the page's path.
 */
export async function writeEvalReport(dir: string, manifest: ModelManifest, results: readonly EvalResult[], dataset: string, paper: PaperFigures | null = null, manifests?: readonly ModelManifest[]): Promise<string> {
  const m = manifest;
  const objects = [];
  for (let i = 0; i < results.length; i++) objects.push(await objectReport(manifests?.[i] ?? manifest, results[i] as EvalResult));
  const report: Report = {
    title: `${methodTitle(m.method)} on ${results.length === 1 ? results[0]!.object : dataset}`,
    run: {
      method: m.method,
      backbone: `${m.backbone.arch}${m.backbone.pretrained ? '' : ' (random init)'}`,
      dataset,
      date: new Date().toISOString(),
      config: m.detector as unknown as Record<string, unknown>,
      extra: { spotdiff: m.spotdiffVersion, weights: m.backbone.weightsFile ?? `random init, seed ${m.backbone.seed}`, threshold: m.threshold.source },
    },
    objects,
    paper,
  };
  return writeReport(dir, report);
}

/** The method's display name: its summary up to the first colon ("PaDiM: ..."), else its name. */
function methodTitle(method: string): string {
  const summary = methodNames().includes(method) ? methodInfo(method).summary : '';
  const head = summary.split(':')[0]!.trim();
  return summary.includes(':') && head.length > 0 ? head : method;
}
