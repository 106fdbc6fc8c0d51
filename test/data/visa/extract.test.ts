import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { extractTar } from '../../../src/data/visa/extract.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { runPython } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeBytes } from './raw-tree.js';

/** A small tar of VisA/<one file of 5,000 bytes>, and the folder it was made from. */
async function smallTar(dir: string): Promise<string> {
  await writeBytes(join(dir, 'src', 'VisA', 'candle', 'image_anno.csv'), 'x'.repeat(5000));
  const file = join(dir, 'small.tar');
  await tar.c({ cwd: join(dir, 'src'), file, portable: true }, ['VisA']);
  return file;
}

/** A read stream that gives `head` and then fails as a system call does, with `code`. */
function failingRead(head: Buffer, code: string): () => Readable {
  return () =>
    new Readable({
      read() {
        if (head.length > 0) this.push(head.subarray(0, head.length));
        head = Buffer.alloc(0);
        setImmediate(() => this.destroy(Object.assign(new Error(`${code}: simulated failure, read`), { code, syscall: 'read' })));
      },
    });
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; cause?: { code?: string } }> {
  try {
    await promise;
  } catch (e) {
    return e as Error & { code: string; cause?: { code?: string } };
  }
  assert.fail('expected a rejection');
}

const DAMAGED = /not a readable tar archive.*delete it and run again/;

test('a good archive extracts, and counts its entries', async () => {
  const dir = tempDir();
  const sizes: number[] = [];
  const n = await extractTar(await smallTar(dir), join(dir, 'out'), { onEntry: (b) => sizes.push(b) });
  assert.equal(n, 3, 'VisA/, VisA/candle/, the file');
  assert.ok(sizes.includes(5000));
  assert.equal(await readFile(join(dir, 'out', 'VisA', 'candle', 'image_anno.csv'), 'utf8'), 'x'.repeat(5000));
});

test('only a damaged archive (not tar, truncated) is one to delete and download anew', async () => {
  const dir = tempDir();
  const good = await readFile(await smallTar(dir));
  const cases = {
    'text.tar': Buffer.from('this is not a tar archive, only text '.repeat(40)),
    'cut-in-a-file.tar': good.subarray(0, 3 * 512 + 1000), // two folder headers, the file's header, part of its bytes
    'cut-between-entries.tar': good.subarray(0, 2 * 512), // the two folders, then nothing: no end-of-archive marker
  };
  for (const [name, bytes] of Object.entries(cases)) {
    await writeFile(join(dir, name), bytes);
    const e = await rejection(extractTar(join(dir, name), join(dir, `out-${name}`)));
    assert.ok(isSpotdiffError(e, 'ERR_BAD_INPUT'), `${name}: ${String(e)}`);
    assert.match(e.message, DAMAGED, name);
  }
});

test('I/O errors while reading the archive are reported as what they are, with their code', async () => {
  const dir = tempDir();
  const head = (await readFile(await smallTar(dir))).subarray(0, 1024);
  for (const code of ['EIO', 'EDQUOT', 'ENOSPC', 'EMFILE', 'EACCES', 'ESTALE']) {
    const e = await rejection(extractTar(join(dir, 'small.tar'), join(dir, `out-${code}`), { openArchive: failingRead(head, code) }));
    assert.ok(isSpotdiffError(e, 'ERR_IO'), `${code}: ${String(e)}`);
    assert.doesNotMatch(e.message, /not a readable tar|delete it/, code);
    assert.match(e.message, new RegExp(`cannot extract .*small\\.tar into .*out-${code}: .*${code}: simulated failure, read`));
    assert.equal(e.cause?.code, code);
  }
});

test('a target that cannot be made, an archive that is a folder and a name the file system refuses are I/O errors', async () => {
  const dir = tempDir();
  const archive = await smallTar(dir);
  const underFile = await rejection(extractTar(archive, join(archive, 'out')));
  assert.ok(isSpotdiffError(underFile, 'ERR_IO'), String(underFile));
  assert.match(underFile.message, /a parent of the path is a file, not a folder \(ENOTDIR/);
  const folder = await rejection(extractTar(join(dir, 'src'), join(dir, 'out-folder')));
  assert.ok(isSpotdiffError(folder, 'ERR_IO'), String(folder));
  assert.match(folder.message, /\(EISDIR/);
  assert.doesNotMatch(folder.message, /delete it/);
  // A valid (pax) archive whose entry name is longer than a file name may be (255 bytes): the
  // write fails inside tar, which passes the system's code on.
  const long = join(dir, 'long.tar');
  runPython("import io, sys, tarfile\nt = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)\ni = tarfile.TarInfo('VisA/' + 'a' * 300 + '.JPG')\ni.size = 3\nt.addfile(i, io.BytesIO(b'abc'))\nt.close()", [long]);
  const e = await rejection(extractTar(long, join(dir, 'out-long')));
  assert.ok(isSpotdiffError(e, 'ERR_IO'), String(e));
  assert.match(e.message, /ENAMETOOLONG/);
  assert.doesNotMatch(e.message, /not a readable tar|delete it/);
});
