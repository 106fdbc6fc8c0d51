import { readdir } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { Command } from './command.js';
import { intFlag, MAX_IMAGE_SIDE, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { AUGMENT_KINDS, isAugmentKind } from '../augment/kinds.js';

const KINDS = AUGMENT_KINDS.join('|');

const usage = `usage: spotdiff augment --show DIR --out GRID.png [--kind ${KINDS}]
                        [--n 8] [--size 256] [--seed S] [--fill image|zero] [--json]

Shows what an augmentation does: picks --n images from DIR (searched recursively, seeded;
folders named Masks or ground_truth are skipped, as they hold segmentation masks),
resizes each (shorter side to --size, then centre crop), augments them and writes one PNG
with a row of originals, a row of augmented images and, for SmoothBlend and CutPaste, a row
of masks (SmoothBlend's blurred alpha, CutPaste's pasted pixels) in grey.

  --show DIR     folder of images (PNG, JPEG, BMP, TIFF, WebP)
  --out FILE     the PNG to write (written atomically)
  --kind K       smoothblend (SPD's local perturbation, default), cutpaste, scar (CutPaste's
                 scar), weak (SPD's positive view) or strong (MoCo v2 / SimSiam views)
  --n N          images to show (default 8)
  --size PX      side of each image in pixels (default 256)
  --seed S       picks the images and draws the augmentation (default 0)
  --fill F       SmoothBlend's layer outside the patch: image (default) or zero
  --json         print the drawn parameters as JSON on stdout`;

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);
// VisA keeps its masks in Data/Masks, MVTec AD in ground_truth: not images to augment.
const MASK_DIRS = new Set(['masks', 'ground_truth']);
const inMaskDir = (root: string, path: string): boolean => relative(root, path).split(sep).some((part) => MASK_DIRS.has(part.toLowerCase()));

async function findImages(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SpotdiffError('ERR_NOT_FOUND', `no such folder: ${dir}`, { cause: e });
    throw new SpotdiffError('ERR_IO', `cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTS.has(extname(e.name).toLowerCase()))
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !inMaskDir(dir, p))
    .sort();
}

export const command: Command = {
  summary: 'a grid PNG of an augmentation (SmoothBlend, CutPaste, scar, weak, strong) on a folder\'s images',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      show: { type: 'string' },
      out: { type: 'string' },
      kind: { type: 'string' },
      n: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      fill: { type: 'string' },
      json: { type: 'boolean' },
    });
    const dir = requireFlag(values.show, 'show');
    const out = requireFlag(values.out, 'out');
    const kind = values.kind ?? 'smoothblend';
    if (!isAugmentKind(kind)) throw new SpotdiffError('ERR_USAGE', `--kind must be one of ${AUGMENT_KINDS.join(', ')}, got "${kind}"`);
    const fill = values.fill;
    if (fill !== undefined && fill !== 'image' && fill !== 'zero') throw new SpotdiffError('ERR_USAGE', `--fill must be image or zero, got "${fill}"`);
    const count = intFlag(values.n, 'n', 8, 1, 256);
    const size = intFlag(values.size, 'size', 256, 32, MAX_IMAGE_SIDE);
    const seed = intFlag(values.seed, 'seed', 0, 0);

    const { Random } = await import('../util/random.js');
    const all = await findImages(dir);
    if (all.length === 0) throw new SpotdiffError('ERR_NOT_FOUND', `no images (${[...IMAGE_EXTS].join(', ')}) in ${dir}`);
    const picked = Random.derive(seed, 'augment-pick').shuffled(all).slice(0, count).sort();
    const { loadImage } = await import('../data/image.js');
    const loaded = await Promise.all(picked.map((p) => loadImage(p, { resize: size, crop: size, normalize: null })));

    const T = await import('../tensor/index.js');
    const { previewAugment } = await import('../augment/preview.js');
    const batch = new Float32Array(loaded.length * 3 * size * size);
    loaded.forEach((img, i) => batch.set(img.data, i * 3 * size * size));
    const preview = T.tidy(() => previewAugment(T.tensor(batch, [loaded.length, 3, size, size]), kind, Random.derive(seed, 'augment', kind), fill === undefined ? {} : { fill }));

    const { contactSheetPng } = await import('../report/contact-sheet.js');
    const { writeFileAtomic } = await import('../util/atomic-write.js');
    const rows = [preview.original, preview.augmented, ...(preview.mask === null ? [] : [preview.mask])];
    const png = await contactSheetPng(rows.flat(), { columns: loaded.length, cellSize: size });
    await writeFileAtomic(out, png);
    if (values.json) {
      const images = picked.map((p, i) => ({ path: relative(dir, p), params: preview.params[i] }));
      process.stdout.write(JSON.stringify({ out, kind, seed, size, rows: rows.length, images }, null, 2) + '\n');
    } else {
      process.stdout.write(`wrote ${out}: ${loaded.length} images × ${rows.length} rows (${kind}, seed ${seed})\n`);
    }
    return 0;
  },
};
