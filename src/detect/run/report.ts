import { writeReport, type PaperFigures, type Report } from '../../report/index.js';
import type { EvalResult } from './evaluate.js';
import { objectReport } from './evaluate.js';
import type { LoadedModel } from './model-folder.js';

/** Writes the HTML report of one model's results on one or more objects; returns the page's path. */
export async function writeEvalReport(dir: string, model: LoadedModel, results: readonly EvalResult[], dataset: string, paper: PaperFigures | null = null, models?: readonly LoadedModel[]): Promise<string> {
  const m = model.manifest;
  const objects = [];
  for (let i = 0; i < results.length; i++) objects.push(await objectReport(models?.[i] ?? model, results[i] as EvalResult));
  const report: Report = {
    title: `${m.method === 'padim' ? 'PaDiM' : 'PatchCore'} on ${results.length === 1 ? results[0]!.object : dataset}`,
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
