/**
 * ONNX export and ONNX Runtime inference. Nothing imported from here loads libtorch:
 * exportModelFolder loads it when called; openOnnxScorer never does. (The graph converters,
 * exportOnnx in ./export.ts, take an already loaded model.)
 */
export { exportModelFolder } from './file.js';
export { openOnnxScorer, type OnnxScorer, type OnnxScorerOptions } from './runtime.js';
export { onnxInput } from './input.js';
export { scoreSamplesOnnx, type OnnxScoredImages } from './score-files.js';
export { ONNX_FORMAT, OUTPUT_MAPS, OUTPUT_SCORES, type OnnxModelInfo } from './metadata.js';
export { ONNX_OPSET } from './schema.js';
