import { SpotdiffError } from '../util/errors.js';
import type { SplitType } from '../data/visa/split-csv.js';

/**
 * The paper's evaluation protocols (Zou et al., ECCV 2022, Sec. 4) as the benchmark runs them:
 * which prepared split each reads, which detector fills which columns, the fit options of each
 * run, how many runs by default and which published table it compares with. Engine-free.
 *
 * - 1cls: one model per object (PaDiM or PatchCore, Table 2 / Table 6) gives both the
 *   classification and the segmentation columns.
 * - 2cls-highshot (Table 3) and 2cls-5shot / 2cls-10shot (Table 4): a classifier fills the
 *   classification columns and a segmenter the segmentation ones, as the paper trains one
 *   network per task. A few-shot run r draws its k images per class with draw index r and seed
 *   r; the paper averages 5 draws.
 */

export const PROTOCOL_NAMES = ['1cls', '2cls-highshot', '2cls-5shot', '2cls-10shot'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export const BENCHMARK_METRICS = ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc'] as const;
export type BenchmarkMetric = (typeof BENCHMARK_METRICS)[number];

/** One detector fitted per (initialisation, object, run), and the columns its results fill. */
export interface ProtocolJob {
  method: string;
  metrics: readonly BenchmarkMetric[];
}

/** A published table and its columns in BENCHMARK_METRICS order (data/visa/paper_results.json). */
export interface PaperTableRef {
  table: string;
  columns: readonly [string, string, string, string];
  source: string;
}

export interface BenchmarkProtocol {
  name: ProtocolName;
  splitType: SplitType;
  /** 1cls: the one method named by the caller; 2cls: classifier then segmenter. */
  jobs(method: string | undefined): ProtocolJob[];
  /** The method options of run `run` (few-shot: the draw), before the caller's overrides. */
  fitOptions(run: number): Record<string, unknown>;
  defaultRuns: number;
  /** Whether each run trains on its own draw of the train split (then every run has its own model folder). */
  draws: boolean;
  /** The published table to compare with for a method; null when the paper has none. */
  paper(method: string): PaperTableRef | null;
}

const ALL: readonly BenchmarkMetric[] = BENCHMARK_METRICS;
const PAPER = 'Zou et al., ECCV 2022';

function twoClassJobs(): ProtocolJob[] {
  return [
    { method: 'classifier', metrics: ['image.aupr', 'image.auroc'] },
    { method: 'segmenter', metrics: ['pixel.aupr', 'pixel.auroc'] },
  ];
}

function fewShot(shots: 5 | 10): BenchmarkProtocol {
  return {
    name: shots === 5 ? '2cls-5shot' : '2cls-10shot',
    splitType: '2cls_fewshot',
    jobs: twoClassJobs,
    fitOptions: (run) => ({ protocol: 'few-shot', shots, run }),
    defaultRuns: 5,
    draws: true,
    paper: () => ({
      table: 'table4_2class_lowshot_visa',
      columns: [`cls${shots}_aupr`, `cls${shots}_auroc`, `seg${shots}_aupr`, `seg${shots}_auroc`],
      source: `${PAPER}, Table 4 (${shots}-shot 2-class, ResNet-50 classifier and U-Net; mean of 5 draws)`,
    }),
  };
}

const PROTOCOLS: Readonly<Record<ProtocolName, BenchmarkProtocol>> = {
  '1cls': {
    name: '1cls',
    splitType: '1cls',
    jobs: (method) => {
      if (method === undefined) throw new SpotdiffError('ERR_USAGE', 'the 1cls protocol needs a one-class method (padim or patchcore)');
      return [{ method, metrics: ALL }];
    },
    fitOptions: () => ({}),
    defaultRuns: 1,
    draws: false,
    paper: (method) => {
      const columns = ['visa_cls_aupr', 'visa_cls_auroc', 'visa_seg_aupr', 'visa_seg_auroc'] as const;
      if (method === 'padim') return { table: 'table2_1class_padim_resnet50', columns, source: `${PAPER}, Table 2 (PaDiM, ResNet-50)` };
      if (method === 'patchcore') return { table: 'table6_1class_patchcore_wide_resnet50', columns, source: `${PAPER}, Table 6 (PatchCore, WideResNet-50-2)` };
      return null;
    },
  },
  '2cls-highshot': {
    name: '2cls-highshot',
    splitType: '2cls_highshot',
    jobs: twoClassJobs,
    fitOptions: () => ({ protocol: 'high-shot' }),
    defaultRuns: 1,
    draws: false,
    paper: () => ({
      table: 'table3_2class_highshot_visa',
      columns: ['cls_aupr', 'cls_auroc', 'seg_aupr', 'seg_auroc'],
      source: `${PAPER}, Table 3 (high-shot 2-class, ResNet-50 classifier and U-Net)`,
    }),
  },
  '2cls-5shot': fewShot(5),
  '2cls-10shot': fewShot(10),
};

/** The protocol called `name`; ERR_USAGE naming the known ones otherwise. */
export function benchmarkProtocol(name: string): BenchmarkProtocol {
  if (!(PROTOCOL_NAMES as readonly string[]).includes(name)) throw new SpotdiffError('ERR_USAGE', `unknown protocol ${JSON.stringify(name)}; choose one of ${PROTOCOL_NAMES.join(', ')}`);
  return PROTOCOLS[name as ProtocolName];
}

/** Run r's method options: the protocol's, then the caller's overrides (epochs, iterations, lr), which may not change the protocol's own keys. */
export function runFitOptions(protocol: BenchmarkProtocol, run: number, overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  if (!Number.isInteger(run) || run < 0) throw new SpotdiffError('ERR_BAD_INPUT', `a run index is a non-negative integer, got ${run}`);
  const own = protocol.fitOptions(run);
  const clash = Object.keys(overrides).filter((k) => k in own);
  if (clash.length > 0) throw new SpotdiffError('ERR_BAD_INPUT', `the ${protocol.name} protocol sets ${clash.join(', ')} itself`);
  return { ...own, ...overrides };
}
