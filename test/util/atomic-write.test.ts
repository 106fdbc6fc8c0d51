import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirAtomic } from '../../src/util/atomic-write.js';
import { tempDir } from '../helpers/tmp.js';

/** The pid of a process that has exited: certainly not alive. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/** A folder holding one file `f` with `text`. */
function folderWith(path: string, text: string): string {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'f'), text);
  return path;
}

const contentOf = (path: string) => readFileSync(join(path, 'f'), 'utf8');
const writeWith = (path: string, text: string) => writeDirAtomic(path, async (tmp) => writeFileSync(join(tmp, 'f'), text));

test('writeDirAtomic replaces an older folder and leaves nothing beside it', async () => {
  const dir = tempDir();
  folderWith(join(dir, 'model'), 'old');
  await writeWith(join(dir, 'model'), 'new');
  assert.equal(contentOf(join(dir, 'model')), 'new');
  assert.deepEqual(readdirSync(dir), ['model']);
});

test('writeDirAtomic puts the old folder back when renaming the new one in fails', async () => {
  const dir = tempDir();
  const target = folderWith(join(dir, 'model'), 'old');
  // Removing the built folder makes the second rename throw ENOENT after the first moved the old one away.
  await assert.rejects(writeDirAtomic(target, (tmp) => rm(tmp, { recursive: true })), { code: 'ENOENT' });
  assert.equal(contentOf(target), 'old');
  assert.deepEqual(readdirSync(dir), ['model']);
});

test('writeDirAtomic sweeps temporary folders a dead process left beside the target', async () => {
  const dir = tempDir();
  const pid = await deadPid();
  folderWith(join(dir, 'model'), 'current');
  folderWith(join(dir, `.model.tmp-${pid}-0123abcd`), 'half-built');
  folderWith(join(dir, `.model.tmp-${pid}-4567abcd.old`), 'replaced, removal interrupted');
  folderWith(join(dir, `.other.tmp-${pid}-0123abcd`), 'not ours');
  await writeWith(join(dir, 'model'), 'new');
  assert.equal(contentOf(join(dir, 'model')), 'new');
  assert.deepEqual(readdirSync(dir).sort(), ['.other.tmp-' + pid + '-0123abcd', 'model']);
});

test('a crash between the two renames: the old folder comes back, then is replaced', async () => {
  const dir = tempDir();
  const pid = await deadPid();
  folderWith(join(dir, `.model.tmp-${pid}-89abcdef`), 'complete new, never renamed in');
  folderWith(join(dir, `.model.tmp-${pid}-89abcdef.old`), 'old');
  let seen = '';
  await writeDirAtomic(join(dir, 'model'), async (tmp) => {
    seen = contentOf(join(dir, 'model')); // while building, readers see the old folder again
    writeFileSync(join(tmp, 'f'), 'new');
  });
  assert.equal(seen, 'old');
  assert.equal(contentOf(join(dir, 'model')), 'new');
  assert.deepEqual(readdirSync(dir), ['model']);
});

test('a crash between the renames, then the build fails: the old folder stays restored', async () => {
  const dir = tempDir();
  const pid = await deadPid();
  folderWith(join(dir, `.model.tmp-${pid}-89abcdef.old`), 'old');
  await assert.rejects(writeDirAtomic(join(dir, 'model'), async () => Promise.reject(new Error('build failed'))), /build failed/);
  assert.equal(contentOf(join(dir, 'model')), 'old');
  assert.deepEqual(readdirSync(dir), ['model']);
});

test('temporary folders of a live process are left alone', async () => {
  const dir = tempDir();
  const live = `.model.tmp-${process.pid}-0123abcd`;
  folderWith(join(dir, live), 'being built');
  folderWith(join(dir, `${live}.old`), 'being replaced');
  await writeWith(join(dir, 'model'), 'new');
  assert.deepEqual(readdirSync(dir).sort(), [live, `${live}.old`, 'model']);
  assert.equal(contentOf(join(dir, `${live}.old`)), 'being replaced');
});
