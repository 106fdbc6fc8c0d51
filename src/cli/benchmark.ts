import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from './command.js';
import { intFlag, listFlag, MAX_IMAGE_SIDE, parseFlags, requireFlag } from './args.js';
import { deviceFlag } from './device-flag.js';
import { methodChoices, methodFlag, methodList } from './method-flag.js';
import { paperResultsFile } from '../data/visa/facts.js';
import type { PaperFigures, ReportMetricKey } from '../report/index.js';

const usage = `usage: spotdiff benchmark --data PREPARED_ROOT --method ${methodChoices()} [--objects a,b]
                          [--backbone B] [--weights FILE] [--size N] [--seed S] [--models DIR]
                          [--device cpu|cuda|auto]
                          [--paper-results FILE] [--json] [--report DIR]

Fits and evaluates one model per object of a prepared dataset and prints a table like the
paper's Table 2: per object and mean, AU-PR and AU-ROC for classification (image) and
segmentation (pixel). On VisA the paper's figures (supervised ImageNet backbone) are shown
beside ours, read from the paper_results.json shipped with spotdiff (data/visa/) or
--paper-results FILE.
Models are written to --models DIR/<object> (default ./benchmark-models). DIR must be new,
empty, or hold only model folders (an earlier benchmark's); anything else is refused.
--device D (cpu, the default; cuda, cuda:N or auto) is where fitting and scoring run.

Methods:
${methodList()}`;

const VISA_OBJECTS = ['candle', 'capsules', 'cashew', 'chewinggum', 'fryum', 'macaroni1', 'macaroni2', 'pcb1', 'pcb2', 'pcb3', 'pcb4', 'pipe_fryum'];
const TABLE_KEYS: ReportMetricKey[] = ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc'];

type Table = { columns: string[] } & Record<string, number[] | string[]>;

/** The paper's VisA figures for a method, as fractions; null when not VisA or the file is absent. */
export function paperFigures(path: string | undefined, method: string, objects: readonly string[]): PaperFigures | null {
  const file = path ?? paperResultsFile;
  if (!existsSync(file) || !objects.every((o) => VISA_OBJECTS.includes(o))) return null;
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Table>;
  const pick = (t: Table | undefined, row: string, cols: string[]): number[] | null => {
    const v = t?.[row] as number[] | undefined;
    return v === undefined ? null : cols.map((c) => (v[t!.columns.indexOf(c)] as number) / 100);
  };
  const rows: Record<string, Partial<Record<ReportMetricKey, number>>> = {};
  const meanTable = method === 'padim' ? all['table2_1class_padim_resnet50'] : all['table6_1class_patchcore_wide_resnet50'];
  const mean = pick(meanTable, 'supervised', ['visa_cls_aupr', 'visa_cls_auroc', 'visa_seg_aupr', 'visa_seg_auroc']);
  if (mean !== null) rows['mean'] = Object.fromEntries(TABLE_KEYS.map((k, i) => [k, mean[i] as number]));
  if (method === 'padim') {
    for (const o of objects) {
      const cls = pick(all['table7_1class_cls_padim_per_object'], o, ['supervised_aupr', 'supervised_auroc']);
      const seg = pick(all['table8_1class_seg_padim_per_object'], o, ['supervised_aupr', 'supervised_auroc']);
      if (cls !== null && seg !== null) rows[o] = { 'image.aupr': cls[0]!, 'image.auroc': cls[1]!, 'pixel.aupr': seg[0]!, 'pixel.auroc': seg[1]! };
    }
  }
  const source = method === 'padim' ? 'Zou et al., ECCV 2022, Tables 2, 7, 8 (PaDiM, ResNet-50, supervised ImageNet)' : 'Zou et al., ECCV 2022, Table 6 (PatchCore, WideResNet-50-2, supervised ImageNet; means only)';
  return Object.keys(rows).length > 0 ? { source, rows } : null;
}

export const command: Command = {
  summary: 'fit and evaluate every object of a prepared dataset; a Table-2-style table',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      data: { type: 'string' },
      method: { type: 'string' },
      objects: { type: 'string' },
      backbone: { type: 'string' },
      weights: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      models: { type: 'string' },
      device: { type: 'string' },
      'paper-results': { type: 'string' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      quiet: { type: 'boolean' },
    });
    const device = await deviceFlag(values.device);
    const data = requireFlag(values.data, 'data');
    const method = methodFlag(requireFlag(values.method, 'method')).name;
    const backbone = values.backbone ?? 'resnet18';
    const { checkArch } = await import('../models/backbone.js');
    checkArch(backbone);
    const seed = intFlag(values.seed, 'seed', 0, 0);
    const size = intFlag(values.size, 'size', 224, 32, MAX_IMAGE_SIDE);
    const quiet = values.quiet === true || values.json === true;
    if (values.weights === undefined) process.stderr.write(`spotdiff: warning: no --weights given: ${backbone} is randomly initialised (seed ${seed}); results need pretrained weights\n`);
    const { openDataset } = await import('../data/datasets/open.js');
    const { fitAndEvaluate } = await import('../detect/run/fit-and-evaluate.js');
    const { metricValues } = await import('../detect/run/evaluate.js');
    const { writeEvalReport } = await import('../detect/run/report.js');
    const { buildTable, renderText, tableJson } = await import('../metrics/index.js');
    const ds = await openDataset(data, { objects: listFlag(values.objects) });
    const objects = listFlag(values.objects) ?? ds.objects;
    const modelsRoot = values.models ?? 'benchmark-models';
    await (await import('../detect/run/model-output.js')).checkModelsRoot(modelsRoot);
    if (values.report !== undefined) await (await import('../report/index.js')).checkReportFolder(values.report);
    const paper = paperFigures(values['paper-results'], method, objects);
    const results = [];
    const manifests = [];
    const records = [];
    for (const object of objects) {
      if (!quiet) process.stderr.write(`benchmark: ${object}\n`);
      const out = join(modelsRoot, object);
      const { manifest, result: r } = await fitAndEvaluate({ method, data, object, backbone, weights: values.weights, size, seed, out, quiet, device });
      records.push({ object, metrics: Object.fromEntries(TABLE_KEYS.filter((k) => metricValues(r)[k] !== undefined).map((k) => [k, metricValues(r)[k] as number])) });
      if (values.report !== undefined) results.push(r);
      else r.scored.maps.length = 0;
      manifests.push(manifest);
    }
    const table = buildTable(records, { meanRow: true });
    let reportPath: string | null = null;
    if (values.report !== undefined) reportPath = await writeEvalReport(values.report, manifests[0]!, results, data, paper, manifests);
    if (values.json) process.stdout.write(JSON.stringify({ method, backbone, data, table: tableJson(table), paper, report: reportPath }, null, 2) + '\n');
    else {
      const lines = [`${method} (${backbone}${values.weights === undefined ? ', random init' : ''}) on ${data}`, renderText(table)];
      if (paper !== null) {
        lines.push(`paper: ${paper.source}`);
        for (const [row, v] of Object.entries(paper.rows)) lines.push(`  ${row.padEnd(12)} ${TABLE_KEYS.map((k) => `${k} ${v[k] === undefined ? '-' : (v[k]! * 100).toFixed(1)}`).join('  ')}`);
      }
      if (reportPath !== null) lines.push(`report: ${reportPath}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  },
};
