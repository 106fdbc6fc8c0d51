/**
 * The one contract shared by image-level and pixel-level metrics: the distinct scores of a data
 * set arrive from the highest to the lowest, each with how many positives and negatives carry
 * exactly that score. Tied scores are one threshold, so tied positives and negatives enter a
 * curve together (a diagonal segment), as scikit-learn's curves treat them.
 */
export interface ThresholdSink {
  /**
   * One distinct score. `positiveWeight` is the summed weight of those positives (for PRO: the
   * sum of 1 / region size over them); sinks that do not need it ignore it.
   */
  add(threshold: number, positives: number, negatives: number, positiveWeight: number): void;
}
