import type { Command } from './command.js';
import { parseFlags, requireFlag } from './args.js';
import { deviceFlag } from './device-flag.js';

const usage = `usage: spotdiff eval --model MODEL --data DIR [--object NAME] [--tile SIZE[:OVERLAP]]
                     [--device cpu|cuda|auto] [--json] [--report DIR]

Scores the test split of the model's object with a model folder from spotdiff fit and prints
threshold-free image metrics (AU-PR, AU-ROC, max-F1) and, when masks exist, pixel metrics
(AU-PR, AU-ROC, max-F1, AUPRO up to FPR 0.3). --report DIR writes a self-contained HTML page.
A model fitted with --tile scores by the same tiles; --tile SIZE:OVERLAP changes the overlap.
--device D (cpu, the default; cuda, cuda:N or auto) is where the backbone and the detector
run, whichever device the model was fitted on; the metrics are computed on the host.`;

export const command: Command = {
  summary: 'evaluate a model folder on a test split (image and pixel metrics, HTML report)',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      model: { type: 'string' },
      data: { type: 'string' },
      object: { type: 'string' },
      tile: { type: 'string' },
      device: { type: 'string' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      quiet: { type: 'boolean' },
    });
    const device = await deviceFlag(values.device);
    const modelDir = requireFlag(values.model, 'model');
    const data = requireFlag(values.data, 'data');
    const { loadModelFolder, disposeModel } = await import('../detect/run/model-folder.js');
    const { evaluateModel, metricValues } = await import('../detect/run/evaluate.js');
    const { writeEvalReport } = await import('../detect/run/report.js');
    const { buildTable, renderText } = await import('../metrics/index.js');
    const { tilingFor } = await import('../detect/run/tiles.js');
    if (values.report !== undefined) await (await import('../report/index.js')).checkReportFolder(values.report);
    const model = await loadModelFolder(modelDir, { device });
    try {
      const tiling = tilingFor(model.manifest, values.tile);
      const r = await evaluateModel(model, data, { object: values.object, quiet: values.quiet === true || values.json === true, tiling });
      const metrics = metricValues(r);
      let reportPath: string | null = null;
      if (values.report !== undefined) reportPath = await writeEvalReport(values.report, model.manifest, [r], data);
      if (values.json) {
        process.stdout.write(JSON.stringify({ model: modelDir, object: r.object, images: r.images, anomalous: r.anomalous, tiling, metrics, threshold: model.manifest.threshold, report: reportPath }, null, 2) + '\n');
      } else {
        process.stdout.write(`${model.manifest.method} (${model.manifest.backbone.arch}) on ${r.object}: ${r.images} test images, ${r.anomalous} anomalous\n`);
        process.stdout.write(renderText(buildTable([{ object: r.object, metrics }])) + '\n');
        if (reportPath !== null) process.stdout.write(`report: ${reportPath}\n`);
      }
      return 0;
    } finally {
      disposeModel(model);
    }
  },
};
