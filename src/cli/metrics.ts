import type { Command } from './command.js';
import { numberFlag, parseFlags } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { Progress } from '../util/progress.js';
import { readCsv } from '../data/datasets/csv.js';
import { binaryMetrics, type BinaryMetrics } from '../metrics/binary.js';
import { pixelMetrics, type PixelMetrics } from '../metrics/pixel.js';
import { buildTable, renderMarkdown, renderText, tableJson, type MetricRecord } from '../metrics/table.js';
import type { MapSource, ScoreMap } from '../metrics/score-map.js';

const usage = `usage: spotdiff metrics --scores FILE.csv [--json | --markdown] [--digits N] [--curves OUT.json]
       spotdiff metrics --pred-dir DIR --gt-dir DIR [--missing-masks-normal] [--official]
                        [--no-aupro] [--pro-fpr-limit 0.3] [--connectivity 8|4]
                        [--memory-mb 256] [--json] [--curves OUT.json] [--quiet]

Image level (--scores): a CSV with columns label,score (label 0/1 or normal/anomaly; a higher
score means more anomalous). Optional columns: object (one table row per object, plus the
mean over objects) and run (k-shot runs: mean ± std over runs).
  AU-PR   trapezoid under scikit-learn's precision_recall_curve (VisA's metrics.py)
  AU-ROC  exact, ties as scikit-learn's roc_auc_score
  AP      step-wise average precision (average_precision_score)
  max-F1  best F1 over all thresholds, with the threshold (predict anomaly when score >= it)

Pixel level (--pred-dir/--gt-dir): anomaly maps (float32 .npy, H×W; or 16-bit/8-bit greyscale
PNG) paired with PNG masks by relative path: DIR/bad/003.npy with GT/bad/003.png or
GT/bad/003_mask.png. All pixels of all maps count, each distinct score is a threshold (exact,
as scikit-learn on the flattened pixels) in bounded memory (--memory-mb; more pixels cost
more reads of the maps, not more memory).
  --missing-masks-normal  maps without a mask are defect-free images (otherwise an error)
  --official              also the VisA metrics.py 200-threshold approximation
  --no-aupro              skip AUPRO; --pro-fpr-limit sets its FPR limit (default 0.3),
                          --connectivity the regions' connectivity (default 8, as MVTec's code)

Output: text on stdout, or --json (fractions in [0, 1]); --curves writes the ROC/PR (and PRO)
curves as JSON. Exit 0 ok, 1 bad input, 2 usage error.`;

const flags = {
  scores: { type: 'string' },
  'pred-dir': { type: 'string' },
  'gt-dir': { type: 'string' },
  'missing-masks-normal': { type: 'boolean' },
  official: { type: 'boolean' },
  'no-aupro': { type: 'boolean' },
  'pro-fpr-limit': { type: 'string' },
  connectivity: { type: 'string' },
  'memory-mb': { type: 'string' },
  json: { type: 'boolean' },
  markdown: { type: 'boolean' },
  digits: { type: 'string' },
  curves: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseFlags<typeof flags>>['values'];

const pct = (v: number, digits: number): string => (v * 100).toFixed(digits);

function parseLabel(raw: string, file: string, line: number): 0 | 1 {
  const v = raw.toLowerCase();
  if (v === '1' || v === 'anomaly') return 1;
  if (v === '0' || v === 'normal') return 0;
  throw new SpotdiffError('ERR_BAD_CSV', `${file} line ${line}: label "${raw}" must be 0, 1, normal or anomaly`);
}

function parseScore(raw: string, file: string, line: number): number {
  const v = raw === '' ? NaN : Number(raw);
  if (!Number.isFinite(v)) throw new SpotdiffError('ERR_BAD_INPUT', `${file} line ${line}: score "${raw}" is not a finite number (NaN and infinite scores have no rank)`);
  return v;
}

function summary(m: BinaryMetrics | PixelMetrics): Record<string, number | null> {
  return {
    aupr: m.aupr,
    auroc: m.auroc,
    averagePrecision: m.averagePrecision,
    maxF1: m.maxF1,
    maxF1Threshold: m.maxF1Threshold,
    positives: m.positives,
    negatives: m.negatives,
    distinctScores: m.distinctScores,
  };
}

function curvesJson(m: BinaryMetrics | PixelMetrics): Record<string, unknown> {
  const arr = (a: Float64Array): number[] => Array.from(a);
  const out: Record<string, unknown> = {
    roc: { fpr: arr(m.roc.fpr), tpr: arr(m.roc.tpr), thresholds: arr(m.roc.thresholds).map((t) => (t === Infinity ? null : t)) },
    pr: { precision: arr(m.pr.precision), recall: arr(m.pr.recall), thresholds: arr(m.pr.thresholds).map((t) => (t === Infinity ? null : t)) },
  };
  if ('pro' in m && m.pro !== null) out.pro = { fpr: arr(m.pro.fpr), pro: arr(m.pro.pro) };
  return out;
}

async function runScores(values: Values, digits: number): Promise<number> {
  const file = values.scores as string;
  const rows = await readCsv(file, ['label', 'score']);
  if (rows.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `${file} has a header but no rows`);
  const hasObject = rows.some((r) => (r.values.object ?? '') !== '');
  const hasRun = rows.some((r) => (r.values.run ?? '') !== '');
  const groups = new Map<string, { object: string; run: string | undefined; labels: number[]; scores: number[] }>();
  for (const r of rows) {
    const object = r.values.object ?? '';
    const run = hasRun ? (r.values.run ?? '') : undefined;
    const key = `${object}\u0000${run ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { object, run, labels: [], scores: [] }));
    g.labels.push(parseLabel(r.values.label as string, file, r.line));
    g.scores.push(parseScore(r.values.score as string, file, r.line));
  }
  const results: { object: string; run: string | undefined; metrics: BinaryMetrics }[] = [];
  for (const g of groups.values()) {
    try {
      results.push({ object: g.object, run: g.run, metrics: binaryMetrics(g.labels, g.scores) });
    } catch (e) {
      if (e instanceof SpotdiffError && (hasObject || hasRun)) {
        throw new SpotdiffError(e.code, `${file}: ${g.object !== '' ? `object ${g.object}` : ''}${g.run !== undefined ? ` run ${g.run}` : ''}: ${e.message}`);
      }
      throw e;
    }
  }
  if (values.curves) {
    const curves = results.map((r) => ({ object: r.object || undefined, run: r.run, ...curvesJson(r.metrics) }));
    await writeFileAtomic(values.curves, JSON.stringify(curves.length === 1 ? curves[0] : curves) + '\n');
  }

  if (!hasObject && !hasRun) {
    const m = (results[0] as (typeof results)[number]).metrics;
    if (values.json) {
      process.stdout.write(JSON.stringify(summary(m), null, 2) + '\n');
      return 0;
    }
    const lines = [
      `samples ${m.positives + m.negatives} (${m.positives} anomalous, ${m.negatives} normal), ${m.distinctScores} distinct scores`,
      `AU-PR   ${pct(m.aupr, digits)}   trapezoid under precision_recall_curve (VisA metrics.py)`,
      `AU-ROC  ${pct(m.auroc, digits)}`,
      `AP      ${pct(m.averagePrecision, digits)}   step-wise average precision`,
      `max-F1  ${pct(m.maxF1, digits)}   at score >= ${m.maxF1Threshold}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }

  const records: MetricRecord[] = results.map((r) => ({
    object: r.object || 'all',
    run: r.run,
    metrics: { aupr: r.metrics.aupr, auroc: r.metrics.auroc, averagePrecision: r.metrics.averagePrecision, maxF1: r.metrics.maxF1 },
  }));
  const table = buildTable(records);
  if (values.json) {
    const perRun = results.map((r) => ({ object: r.object || undefined, run: r.run, ...summary(r.metrics) }));
    process.stdout.write(JSON.stringify({ ...tableJson(table), results: perRun }, null, 2) + '\n');
  } else {
    process.stdout.write((values.markdown ? renderMarkdown(table, { digits }) : renderText(table, { digits })) + '\n');
  }
  return 0;
}

/** Wraps a source so that each pass shows progress on stderr. */
function withProgress(source: MapSource, total: number, quiet: boolean): { source: MapSource; setPass: (pass: number, passes: number) => void } {
  let label = 'reading maps';
  return {
    setPass: (pass, passes) => {
      label = passes > 0 ? `reading maps (pass ${pass}/${passes})` : `reading maps (pass ${pass})`;
    },
    source: async function* () {
      const bar = new Progress({ total, label, unit: 'maps', enabled: !quiet });
      for await (const m of source() as AsyncIterable<ScoreMap>) {
        yield m;
        bar.tick();
      }
      bar.finish();
    },
  };
}

async function runMaps(values: Values, digits: number): Promise<number> {
  const predDir = values['pred-dir'];
  const gtDir = values['gt-dir'];
  if (!predDir || !gtDir) throw new SpotdiffError('ERR_USAGE', '--pred-dir and --gt-dir go together');
  const limit = numberFlag(values['pro-fpr-limit'], 'pro-fpr-limit', 0.3);
  if (!(limit > 0 && limit <= 1)) throw new SpotdiffError('ERR_USAGE', `--pro-fpr-limit must be in (0, 1], got ${limit}`);
  const connectivity = numberFlag(values.connectivity, 'connectivity', 8);
  if (connectivity !== 4 && connectivity !== 8) throw new SpotdiffError('ERR_USAGE', `--connectivity must be 4 or 8, got ${connectivity}`);
  const memoryMb = numberFlag(values['memory-mb'], 'memory-mb', 256);
  if (!(memoryMb >= 1)) throw new SpotdiffError('ERR_USAGE', `--memory-mb must be at least 1, got ${memoryMb}`);
  const quiet = Boolean(values.quiet);

  // Loaded here so that --scores does not pay for loading sharp.
  const { mapFileSource, pairMapFiles } = await import('../metrics/map-files.js');
  const pairs = await pairMapFiles(predDir, gtDir, { missingMasksNormal: Boolean(values['missing-masks-normal']) });
  const files = mapFileSource(pairs, (f) => {
    if (!quiet) process.stderr.write(`spotdiff: note: float64 maps (e.g. ${f}) are evaluated at float32 precision\n`);
  });
  const progress = withProgress(files, pairs.length, quiet);
  const m = await pixelMetrics(progress.source, {
    aupro: values['no-aupro'] ? false : { fprLimit: limit, connectivity },
    official: Boolean(values.official),
    memoryBudgetBytes: memoryMb * 1024 * 1024,
    curvePoints: values.curves ? 1000 : 0,
    onPass: progress.setPass,
  });
  if (values.curves) await writeFileAtomic(values.curves, JSON.stringify(curvesJson(m)) + '\n');

  const report = {
    ...summary(m),
    aupro: m.aupro,
    auproFprLimit: m.auproFprLimit,
    maps: m.maps,
    pixels: m.pixels,
    regions: m.regions,
    passes: m.passes,
    official: m.official ? { aupr: m.official.aupr, auroc: m.official.auroc, maxF1: m.official.maxF1 } : null,
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `maps ${m.maps}, pixels ${m.pixels} (${m.positives} defect, ${m.negatives} normal)${m.regions !== null ? `, ${m.regions} defect regions` : ''}`,
    `exact over ${m.distinctScores} distinct scores (${m.passes} reads of the maps)`,
    `AU-PR   ${pct(m.aupr, digits)}   trapezoid under precision_recall_curve`,
    `AU-ROC  ${pct(m.auroc, digits)}`,
    `AP      ${pct(m.averagePrecision, digits)}   step-wise average precision`,
    `max-F1  ${pct(m.maxF1, digits)}   at score >= ${m.maxF1Threshold}`,
  ];
  if (m.aupro !== null) lines.push(`AUPRO   ${pct(m.aupro, digits)}   to FPR ${m.auproFprLimit}, ${connectivity}-connected regions`);
  if (m.official) {
    lines.push(`official 200-threshold approximation (VisA metrics.py): AU-PR ${pct(m.official.aupr, digits)}, AU-ROC ${pct(m.official.auroc, digits)}, max-F1 ${pct(m.official.maxF1, digits)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

export const command: Command = {
  summary: 'AU-PR, AU-ROC, AP, max-F1 (image level from a CSV; pixel level and AUPRO from map folders)',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, flags);
    const digits = numberFlag(values.digits, 'digits', 1);
    if (!Number.isInteger(digits) || digits < 0 || digits > 10) throw new SpotdiffError('ERR_USAGE', `--digits must be an integer 0..10`);
    if (values.json && values.markdown) throw new SpotdiffError('ERR_USAGE', '--json and --markdown exclude each other');
    const byScores = values.scores !== undefined;
    const byMaps = values['pred-dir'] !== undefined || values['gt-dir'] !== undefined;
    if (byScores === byMaps) throw new SpotdiffError('ERR_USAGE', `give either --scores FILE.csv or --pred-dir DIR --gt-dir DIR\n${usage}`);
    return byScores ? runScores(values, digits) : runMaps(values, digits);
  },
};
