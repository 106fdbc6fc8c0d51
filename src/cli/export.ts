import { existsSync } from 'node:fs';
import type { Command } from './command.js';
import { parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';

const usage = `usage: spotdiff export --model MODEL --out FILE.onnx [--force] [--json]

Writes a model folder from spotdiff fit as one ONNX graph (opset 17) that runs without
spotdiff or libtorch, e.g. on ONNX Runtime (spotdiff predict --engine onnx, a browser):
  input   images  float32 [batch, 3, H, W], RGB in [0, 1], resized to the model's size
                  (the ImageNet normalisation is inside the graph)
  outputs image_scores [batch] and maps [batch, H, W]: the same numbers as spotdiff predict
The metadata (metadata_props "spotdiff.*", JSON) records the method, opset, input size,
normalisation and the model's image and pixel thresholds.
PaDiM, PatchCore, the classifier and the segmenter export; a model fitted with --tile is
refused (its tiling and stitching are not part of the graph).
--force replaces an existing FILE (otherwise it is never overwritten); the file is written
whole or not at all.`;

export const command: Command = {
  summary: 'write a model as an ONNX graph (scores and anomaly maps) for ONNX Runtime',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { model: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
    const model = requireFlag(values.model, 'model');
    const out = requireFlag(values.out, 'out');
    if (values.force !== true && existsSync(out)) throw new SpotdiffError('ERR_USAGE', `${out} already exists; give --force to replace it`);
    const { exportModelFolder } = await import('../export/onnx/index.js');
    const info = await exportModelFolder(model, out, { force: values.force === true });
    if (values.json) process.stdout.write(JSON.stringify({ out, ...info }, null, 2) + '\n');
    else process.stdout.write(`wrote ${out}: ${info.method} on ${info.backbone}, input [batch, 3, ${info.input.height}, ${info.input.width}] in [0, 1], opset ${info.opset}\n`);
    return 0;
  },
};
