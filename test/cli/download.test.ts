import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tar from 'tar';
import { readFile } from 'node:fs/promises';
import { tempDir } from '../helpers/tmp.js';
import { writeRawTree } from '../data/visa/raw-tree.js';
import { closedPort, serveBytes, startServer } from '../data/visa/http-server.js';
import { runCli } from './run-cli.js';

test('spotdiff download: usage errors exit 2', { timeout: 60_000 }, async () => {
  assert.equal((await runCli(['download', '--to', 'x'])).code, 2);
  const other = await runCli(['download', 'mnist', '--to', 'x']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /spotdiff download visa --to DIR \(got "mnist"\)/);
  const noTo = await runCli(['download', 'visa']);
  assert.equal(noTo.code, 2);
  assert.match(noTo.stderr, /--to is required/);
});

test('spotdiff download visa: offline exits 1 with the URL; a served tar lands in DIR/VisA (--json)', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const url = `http://127.0.0.1:${await closedPort()}/VisA.tar`;
  const offline = await runCli(['download', 'visa', '--to', join(dir, 'a'), '--url', url, '--quiet']);
  assert.equal(offline.code, 1);
  assert.match(offline.stderr, new RegExp(`cannot reach ${url.replace(/[.]/g, '\\.')}: the connection was refused`));

  const tree = await writeRawTree(join(dir, 'src', 'VisA'), { objects: ['candle'], normals: 3, anomalies: 2 });
  await tar.c({ cwd: join(dir, 'src'), file: join(dir, 'v.tar'), portable: true }, ['VisA']);
  const body = await readFile(join(dir, 'v.tar'));
  const server = await startServer((req, res) => serveBytes(req, res, body));
  const r = await runCli(['download', 'visa', '--to', join(dir, 'b'), '--url', server.url('/VisA_20220922.tar'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { dataFolder: string; archive: string; bytes: number };
  assert.equal(summary.dataFolder, join(dir, 'b', 'VisA'));
  assert.equal(summary.archive, join(dir, 'b', 'VisA_20220922.tar'));
  assert.equal(summary.bytes, body.length);
  assert.match(r.stderr, /downloading http:\/\/127\.0\.0\.1/);
  assert.match(r.stderr, /next: spotdiff prepare/);
  assert.deepEqual(await readFile(join(summary.dataFolder, 'split_csv', '1cls.csv')), await readFile(join(tree.root, 'split_csv', '1cls.csv')));
});
