import type { SplitType } from '../visa/split-csv.js';

/**
 * The paper's split rules (Zou et al., "SPot-the-Difference Self-Supervised Pre-training for
 * Anomaly Detection and Segmentation", ECCV 2022, Sec. 4, and the VisA README's "Data
 * preparation"), applied per object: the fraction of each class that goes to train, the rest
 * to test.
 */

export interface SplitRule {
  /** Fraction of an object's normal images that train. */
  normal: number;
  /** Fraction of an object's anomalous images that train. */
  anomaly: number;
  /** Where the numbers come from. */
  source: string;
}

export const SPLIT_RULES: Readonly<Record<SplitType, SplitRule>> = {
  '1cls': {
    normal: 0.9,
    anomaly: 0,
    source: 'VisA README / paper Sec. 4: 90% of the normal images train; the other 10% and every anomaly test',
  },
  '2cls_highshot': {
    normal: 0.6,
    anomaly: 0.6,
    source: 'VisA README / paper Sec. 4 (high-shot): 60% of the normal and 60% of the anomalous images train, 40% test',
  },
  '2cls_fewshot': {
    normal: 0.2,
    anomaly: 0.2,
    source: 'VisA README / paper Sec. 4 (low-shot): 20% of each class trains, 80% tests; k-shot runs then sample from the train part',
  },
};
