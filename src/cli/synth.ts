import type { Command } from './command.js';
import { intFlag, listFlag, parseFlags, requireFlag } from './args.js';
import { Progress } from '../util/progress.js';

const usage = `usage: spotdiff synth --out DIR [--objects a,b,c] [--seed S] [--normal N] [--anomalous M]
                      [--size PX] [--threads T] [--json] [--quiet]

Writes a synthetic dataset in the raw VisA layout: <object>/Data/Images/{Normal,Anomaly}/*.JPG,
class-id masks in <object>/Data/Masks/Anomaly/*.png, <object>/image_anno.csv, split_csv/ with the
three official protocols (1cls, 2cls_highshot, 2cls_fewshot) and defect_classes.json.
The same options give the same bytes.

objects (one per VisA domain):
  board     complex structure: a populated circuit board
  pills     multiple instances: six capsules at varied positions and poses
  tealight  single instance: one roughly centred tealight candle

options:
  --out DIR        where to write (replaced if it holds an earlier synth dataset; refused otherwise)
  --objects LIST   comma-separated object names (default: board,pills,tealight)
  --seed S         random seed (default 0)
  --normal N       normal images per object (default 60)
  --anomalous M    anomalous images per object (default 20)
  --size PX        image side in pixels (default 256)
  --threads T      worker threads that draw images (default: cores, at most 8; 0: none)
  --json           print a summary as JSON on stdout
  --quiet          no progress on stderr`;

export const command: Command = {
  summary: 'write a synthetic VisA-format dataset (images, class-id masks, official split CSVs)',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      out: { type: 'string' },
      objects: { type: 'string' },
      seed: { type: 'string' },
      normal: { type: 'string' },
      anomalous: { type: 'string' },
      size: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    const out = requireFlag(values.out, 'out');
    const { generateSynthDataset } = await import('../data/synth/generate.js');
    const { defaultThreads } = await import('../data/synth/pool.js');
    let progress: Progress | undefined;
    const started = Date.now();
    const summary = await generateSynthDataset({
      out,
      objects: listFlag(values.objects),
      seed: intFlag(values.seed, 'seed', 0, 0),
      normal: intFlag(values.normal, 'normal', 60, 1),
      anomalous: intFlag(values.anomalous, 'anomalous', 20, 0),
      size: intFlag(values.size, 'size', 256, 64),
      threads: intFlag(values.threads, 'threads', defaultThreads(), 0, 1024),
      onProgress: (done, total) => {
        progress ??= new Progress({ total, label: 'synth', unit: 'img', enabled: !values.quiet && !values.json });
        progress.tick();
        if (done === total) progress.finish();
      },
    });
    const seconds = (Date.now() - started) / 1000;
    if (values.json) {
      process.stdout.write(JSON.stringify({ ...summary, seconds }, null, 2) + '\n');
    } else if (!values.quiet) {
      const lines = summary.objects.map((o) => `  ${o.name} (${o.domain}): ${o.normal} normal + ${o.anomalous} anomalous; defects: ${o.defectClasses.join(', ')}`);
      process.stdout.write(`wrote ${summary.images} images at ${summary.size} px to ${summary.root} in ${seconds.toFixed(1)} s (seed ${summary.seed})\n${lines.join('\n')}\n`);
    }
    return 0;
  },
};
