import { SpotdiffError } from '../../util/errors.js';
import { openDataset } from './open.js';
import type { Sample } from './sample.js';

/**
 * The train and test samples of one object of a dataset, as the detector pipelines, the
 * fine-tuning and the attention study read them.
 */

/** The train-split samples of one object; ERR_BAD_INPUT when there are no normal ones. */
export async function trainSamples(data: string, object: string | undefined): Promise<{ samples: Sample[]; object: string; dataset: string }> {
  const ds = await openDataset(data, object === undefined ? {} : { objects: [object] });
  const obj = object ?? (ds.objects.length === 1 ? (ds.objects[0] as string) : undefined);
  if (obj === undefined) throw new SpotdiffError('ERR_USAGE', `${data} holds ${ds.objects.length} objects (${ds.objects.join(', ')}); choose one with --object`);
  const train = ds.samples.filter((s) => s.object === obj && (s.split === 'train' || (s.split === null && s.label === 'normal')));
  if (!train.some((s) => s.label === 'normal')) throw new SpotdiffError('ERR_BAD_INPUT', `no normal training images for "${obj}" in ${data} (the train folder is empty)`);
  return { samples: train, object: obj, dataset: `${ds.layout} ${ds.root}` };
}

/** The test-split samples of one object; ERR_BAD_INPUT when there are none. */
export async function testSamples(data: string, object: string): Promise<Sample[]> {
  const ds = await openDataset(data, { objects: [object] });
  const test = ds.samples.filter((s) => s.object === object && s.split === 'test');
  if (test.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `no test images for "${object}" in ${data}`);
  return test;
}
