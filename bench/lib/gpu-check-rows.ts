// The rows bench/gpu-check.sh puts in its table, from one stage's --json output: each row is
// step, figure, reference, verdict (tab-separated on stdout). Targets are issue 11's.
//
// usage: node dist/bench/lib/gpu-check-rows.js parity|step|detect FILE.json
//        node dist/bench/lib/gpu-check-rows.js e2e|feed FILE.json [STEP.json]
//        node dist/bench/lib/gpu-check-rows.js doctor FILE.json [gpu-optional]
//        node dist/bench/lib/gpu-check-rows.js table ROWS.tsv TITLE
import { readFileSync } from 'node:fs';

type Row = [step: string, figure: string, reference: string, verdict: string];
type Json = Record<string, any>; // bench output, read field by field

const n = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
const e = (v: number): string => (v === 0 ? '0' : v.toExponential(1));

function parity(j: Json): Row[] {
  return (j['families'] as Json[]).map((f) => [`parity ${f['family']}`, `worst rel ${e(f['worstRel'])} (${f['worstCase']})`, `tol ${e(f['tolerance'])}`, f['pass'] ? 'pass' : 'FAIL']);
}

function step(j: Json): Row[] {
  const { batch } = j['config'];
  const ts = j['spotdiff'];
  const py = j['pytorch'];
  const viewsShare = ts['views_ms'] / ts['step_ms'];
  const ips = (m: Json): number => (1000 * batch) / (m['views_ms'] + m['step_ms']);
  return [
    [`SimSiam+SPD step b${batch}`, `${n(ts['step_ms'])} ms`, `PyTorch ${n(py['step_ms'])} ms`, `ratio ${n(ts['step_ms'] / py['step_ms'], 2)} (≤ 1.15) ${ts['step_ms'] / py['step_ms'] <= 1.15 ? 'pass' : 'miss'}`],
    [`views b${batch}`, `${n(ts['views_ms'])} ms = ${n(100 * viewsShare, 0)}% of step`, `PyTorch ${n(py['views_ms'])} ms`, `≤ 10% of step ${viewsShare <= 0.1 ? 'pass' : 'miss'}`],
    [`images/s b${batch} (views + step)`, n(ips(ts)), `PyTorch ${n(ips(py))}`, `ratio ${n(ips(ts) / ips(py), 2)}`],
  ];
}

/** `stepJson`: a step bench run, for the end-to-end target (≥ 80% of the step alone's images/s). */
function e2e(j: Json, stepJson: Json | null): Row[] {
  const ts = j['spotdiff'];
  const py = j['pytorch'];
  const cache = ts['image_cache'] ? `, images on ${ts['image_cache']['place']}` : '';
  const rows: Row[] = [[`pretrain e2e b${j['config']['batch']}${cache}`, `${n(ts['images_per_s'])} img/s`, `PyTorch ${n(py['images_per_s'])} img/s`, `ratio ${n(ts['images_per_s'] / py['images_per_s'], 2)}`]];
  if (stepJson !== null) {
    const stepAlone = (1000 * stepJson['config']['batch']) / stepJson['spotdiff']['step_ms'];
    const share = ts['images_per_s'] / stepAlone;
    rows.push(['e2e vs step alone', `${n(100 * share, 0)}%`, `step alone ${n(stepAlone)} img/s (b${stepJson['config']['batch']})`, `≥ 80% ${share >= 0.8 ? 'pass' : 'miss'}`]);
  }
  return rows;
}

/** The input feed alone (bench/input-feed.ts), last epoch, against the step's images/s when given. */
function feed(j: Json, stepJson: Json | null): Row[] {
  const last = (xs: number[]): number => xs[xs.length - 1] ?? NaN;
  const [host, store] = [last(j['host_images_per_s']), last(j['device_images_per_s'])];
  const stepAlone = stepJson === null ? null : (1000 * stepJson['config']['batch']) / stepJson['spotdiff']['step_ms'];
  const verdict = stepAlone === null ? '-' : `${n(store / stepAlone, 1)}× the step (b${stepJson!['config']['batch']} ${n(stepAlone)} img/s) ${store >= stepAlone ? 'pass' : 'miss'}`;
  return [[`input feed b${j['config']['batch']}, epoch ${j['config']['epochs']}`, `device store ${n(store, 0)} img/s`, `host cache ${n(host, 0)} img/s`, verdict]];
}

/** PatchCore fit + eval on the device against the CPU (gpu-check.sh writes this JSON). */
function detect(j: Json): Row[] {
  const speedup = j['cpu_s'] / j['device_s'];
  const names = Object.keys(j['cpu_metrics']).filter((k) => typeof j['cpu_metrics'][k] === 'number');
  const worst = Math.max(...names.map((k) => Math.abs(j['cpu_metrics'][k] - (j['device_metrics'][k] ?? NaN))));
  return [
    [`PatchCore fit+eval ${j['device']}`, `${n(j['device_s'])} s`, `cpu ${n(j['cpu_s'])} s`, `speed-up ${n(speedup)}× (≥ 10) ${speedup >= 10 ? 'pass' : 'miss'}`],
    [`PatchCore metrics ${j['device']} vs cpu`, `worst |Δ| ${e(worst)}`, `${names.length} eval metrics`, worst <= 1e-3 ? 'pass' : 'FAIL'],
  ];
}

/** `spotdiff doctor --json`: the libtorch loaded and whether it sees a GPU (required unless `gpuOptional`). */
function doctor(j: Json, gpuOptional: boolean): Row[] {
  const e = j['engine'];
  const seen = e['cudaAvailable'] === true;
  return [['doctor', `libtorch ${e['torchVersion']}, CUDA ${seen ? `yes (${e['cudaDeviceCount']} GPU)` : 'no'}`, `built with CUDA: ${e['builtWithCuda']}`, seen || gpuOptional ? 'pass' : 'FAIL (no CUDA)']];
}

/** The rows file (tab-separated) as aligned columns under a title; widths count characters, not bytes. */
function table(rowsFile: string, title: string): string {
  const rows = [['step', 'figure', 'reference', 'verdict'], ...readFileSync(rowsFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t'))];
  const len = (s: string): number => [...s].length;
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => len(r[i] ?? ''))));
  const line = (r: string[]): string => r.map((c, i) => c + ' '.repeat(widths[i]! - len(c))).join('  ').trimEnd();
  return [title, ...rows.map(line)].join('\n') + '\n';
}

function rowsOf(kind: string, file: string, extra: string | undefined): Row[] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Json;
  if (kind === 'parity') return parity(json);
  if (kind === 'step') return step(json);
  if (kind === 'e2e') return e2e(json, extra === undefined ? null : (JSON.parse(readFileSync(extra, 'utf8')) as Json));
  if (kind === 'detect') return detect(json);
  if (kind === 'feed') return feed(json, extra === undefined ? null : (JSON.parse(readFileSync(extra, 'utf8')) as Json));
  if (kind === 'doctor') return doctor(json, extra === 'gpu-optional');
  throw new Error(`unknown stage ${kind}`);
}

const [kind, file, extra] = process.argv.slice(2);
if (kind === 'table') process.stdout.write(table(file!, extra ?? ''));
else process.stdout.write(rowsOf(kind!, file!, extra).map((r) => r.join('\t')).join('\n') + '\n');
