import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkModelOutput, checkModelsRoot } from '../../../src/detect/run/model-output.js';
import { MODEL_FORMAT, MODEL_JSON, MODEL_WEIGHTS } from '../../../src/detect/run/model-folder.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';

/** What saveModelFolder writes, as far as the check looks (the manifest's format). */
function fakeModel(dir: string, format = MODEL_FORMAT): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MODEL_JSON), JSON.stringify({ format }));
  writeFileSync(join(dir, MODEL_WEIGHTS), '');
  return dir;
}

const refused = (p: Promise<void>, why: RegExp) => assert.rejects(p, (e: unknown) => isSpotdiffError(e, 'ERR_USAGE') && /refusing to replace/.test((e as Error).message) && why.test((e as Error).message));

test('a model may be saved to a missing path, an empty folder or an earlier model folder', async () => {
  const dir = tempDir();
  await checkModelOutput(join(dir, 'missing', 'model'));
  mkdirSync(join(dir, 'empty'));
  await checkModelOutput(join(dir, 'empty'));
  await checkModelOutput(fakeModel(join(dir, 'model')));
});

test('a file, a link, or a folder with anything of the user\'s in it is refused', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'r18.pth'), 'weights');
  await refused(checkModelOutput(join(dir, 'r18.pth')), /it is a file/);
  symlinkSync(fakeModel(join(dir, 'model')), join(dir, 'link'));
  await refused(checkModelOutput(join(dir, 'link')), /symbolic link/);
  mkdirSync(join(dir, 'project'));
  writeFileSync(join(dir, 'project', 'notes.txt'), 'mine');
  await refused(checkModelOutput(join(dir, 'project')), /not a spotdiff model \(notes\.txt\)/);
  writeFileSync(join(dir, 'model', 'notes.txt'), 'mine, added to a model folder');
  await refused(checkModelOutput(join(dir, 'model')), /notes\.txt/);
  await refused(checkModelOutput(fakeModel(join(dir, 'other'), 'someone.else')), /not a spotdiff model/);
});

test('a models root may hold only model folders, empty folders and temporaries of interrupted saves', async () => {
  const dir = tempDir();
  await checkModelsRoot(join(dir, 'models'));
  fakeModel(join(dir, 'models', 'candle'));
  mkdirSync(join(dir, 'models', 'capsules'));
  mkdirSync(join(dir, 'models', '.pcb1.tmp-123-0123abcd.old'));
  await checkModelsRoot(join(dir, 'models'));
  writeFileSync(join(dir, 'models', 'README'), 'mine');
  await refused(checkModelsRoot(join(dir, 'models')), /not spotdiff model folders \(README\)/);
  writeFileSync(join(dir, 'file'), '');
  await refused(checkModelsRoot(join(dir, 'file')), /it is a file/);
});
