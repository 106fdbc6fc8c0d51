import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { downloadVisa, DOWNLOAD_MARKER, VISA_URL } from '../../../src/data/visa/download.js';
import { isSpotdiffError, type ErrorCode } from '../../../src/util/errors.js';
import { Random } from '../../../src/util/random.js';
import { tempDir } from '../../helpers/tmp.js';
import { closedPort, serveBytes, startServer } from './http-server.js';
import { writeBytes, writeRawTree } from './raw-tree.js';
import { readTree } from './tree-files.js';

/** A VisA-like tree and its tar (wrapped in VisA/ or with the objects at the top). */
async function makeArchive(dir: string, options: { wrap?: boolean; extra?: string } = {}): Promise<{ tarBytes: Buffer; source: string }> {
  const base = join(dir, 'src');
  const tree = await writeRawTree(join(base, 'VisA'), { normals: 6, anomalies: 3 });
  // A bigger incompressible file, so the transfer spans many network chunks.
  const noise = new Uint8Array(700_000);
  const rng = new Random(7);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.uint32() & 255;
  await writeBytes(join(tree.root, 'candle', 'Data', 'Images', 'Normal', '0099.JPG'), noise);
  if (options.extra !== undefined) await writeBytes(join(tree.root, 'extra.txt'), options.extra);
  const file = join(dir, 'visa.tar');
  const wrap = options.wrap ?? true;
  await tar.c({ cwd: wrap ? base : tree.root, file, portable: true }, wrap ? ['VisA'] : await readdir(tree.root));
  return { tarBytes: await readFile(file), source: tree.root };
}

async function assertSameTree(extracted: string, source: string): Promise<void> {
  const got = await readTree(extracted);
  assert.ok(got.has(DOWNLOAD_MARKER), 'completion marker written');
  got.delete(DOWNLOAD_MARKER);
  const want = await readTree(source);
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [k, v] of want) assert.ok(v.equals(got.get(k) as Buffer), k);
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isSpotdiffError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const fast = { progress: false, retryDelayMs: 0 } as const;

test('the default address is the VisA tar in the public amazon-visual-anomaly bucket (us-west-2)', () => {
  assert.equal(VISA_URL, 'https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar');
});

test('downloads and extracts to DIR/VisA; a re-run does nothing', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes, source } = await makeArchive(dir);
  const server = await startServer((req, res) => serveBytes(req, res, tarBytes));
  const to = join(dir, 'data');
  const summary = await downloadVisa({ to, url: server.url('/VisA.tar'), ...fast });
  assert.equal(summary.dataFolder, join(to, 'VisA'));
  assert.deepEqual([summary.downloaded, summary.extracted, summary.bytes, summary.resumedFrom], [true, true, tarBytes.length, []]);
  assert.ok((await readFile(join(to, 'VisA.tar'))).equals(tarBytes));
  await assertSameTree(join(to, 'VisA'), source);
  assert.deepEqual((await readdir(to)).sort(), ['VisA', 'VisA.tar'], 'no .part, no staging folder left');
  const again = await downloadVisa({ to, url: server.url('/VisA.tar'), ...fast });
  assert.deepEqual([again.downloaded, again.extracted], [false, false]);
  assert.equal(server.requests.length, 1, 'a finished download is not fetched again');
});

test('a cut connection: the next run resumes with Range + If-Range and the result is identical', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes, source } = await makeArchive(dir);
  const half = Math.floor(tarBytes.length / 2);
  const server = await startServer((req, res, i) => serveBytes(req, res, tarBytes, i === 0 ? { cutAt: half } : {}));
  const to = join(dir, 'data');
  const url = server.url('/VisA.tar');
  await rejectsWith(downloadVisa({ to, url, ...fast, retries: 0 }), 'ERR_NETWORK', /interrupted at \d+ of \d+ bytes.*run the same command again to resume/i);
  const part = await readFile(join(to, 'VisA.tar.part'));
  assert.equal(part.length, half);
  assert.ok(part.equals(tarBytes.subarray(0, half)));
  assert.equal(existsSync(join(to, 'VisA.tar')), false);
  assert.equal(existsSync(join(to, 'VisA')), false);

  const summary = await downloadVisa({ to, url, ...fast, retries: 0 });
  assert.deepEqual(server.requests[1], { path: '/VisA.tar', range: `bytes=${half}-`, ifRange: '"v1"' });
  assert.deepEqual(summary.resumedFrom, [half]);
  assert.ok((await readFile(join(to, 'VisA.tar'))).equals(tarBytes));
  await assertSameTree(join(to, 'VisA'), source);
});

test('repeated cuts within one run are resumed automatically', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes } = await makeArchive(dir);
  const a = 100_000;
  const b = 250_000;
  const server = await startServer((req, res, i) => serveBytes(req, res, tarBytes, i === 0 ? { cutAt: a } : i === 1 ? { cutAt: b } : {}));
  const summary = await downloadVisa({ to: join(dir, 'data'), url: server.url('/VisA.tar'), ...fast, retries: 1 });
  assert.deepEqual(summary.resumedFrom, [a, a + b]);
  assert.deepEqual(server.requests.map((r) => r.range), [null, `bytes=${a}-`, `bytes=${a + b}-`]);
  assert.ok((await readFile(join(dir, 'data', 'VisA.tar'))).equals(tarBytes));
});

test('reset connections (bytes in flight lost) resume from what reached the disk', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes } = await makeArchive(dir);
  const server = await startServer((req, res, i) => serveBytes(req, res, tarBytes, i < 3 ? { resetAt: 120_000 } : {}));
  const summary = await downloadVisa({ to: join(dir, 'data'), url: server.url('/VisA.tar'), ...fast, retries: 3 });
  // Each resumed request starts where the part file ended, whatever the resets dropped.
  assert.equal(summary.resumedFrom.length, server.requests.length - 1);
  summary.resumedFrom.forEach((offset, k) => assert.equal(server.requests[k + 1]?.range, `bytes=${offset}-`));
  assert.ok((await readFile(join(dir, 'data', 'VisA.tar'))).equals(tarBytes));
});

test('a server that never sends a byte: retried `retries` times, then a clear error', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes } = await makeArchive(dir);
  const server = await startServer((req, res) => serveBytes(req, res, tarBytes, { cutAt: 0 }));
  await rejectsWith(downloadVisa({ to: join(dir, 'data'), url: server.url('/VisA.tar'), ...fast, retries: 2 }), 'ERR_NETWORK', /interrupted at 0 of \d+ bytes; gave up after 3 failed attempt\(s\) in a row/);
  assert.equal(server.requests.length, 3);
});

test('a server that ignores Range (answers 200) makes a clean restart from byte 0', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes, source } = await makeArchive(dir);
  const server = await startServer((req, res, i) => serveBytes(req, res, tarBytes, { ignoreRange: true, ...(i === 0 ? { cutAt: 300_000 } : {}) }));
  const to = join(dir, 'data');
  await downloadVisa({ to, url: server.url('/VisA.tar'), ...fast });
  assert.equal(server.requests[1]?.range, 'bytes=300000-');
  assert.ok((await readFile(join(to, 'VisA.tar'))).equals(tarBytes), 'not the old half plus the whole file');
  await assertSameTree(join(to, 'VisA'), source);
});

test('a file that changed on the server (new ETag) is fetched whole, through If-Range', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const v1 = await makeArchive(join(dir, 'v1'));
  const v2 = await makeArchive(join(dir, 'v2'), { extra: 'second edition' });
  const server = await startServer((req, res, i) => (i === 0 ? serveBytes(req, res, v1.tarBytes, { cutAt: 200_000 }) : serveBytes(req, res, v2.tarBytes, { etag: '"v2"' })));
  const to = join(dir, 'data');
  await downloadVisa({ to, url: server.url('/VisA.tar'), ...fast });
  assert.equal(server.requests[1]?.ifRange, '"v1"');
  assert.ok((await readFile(join(to, 'VisA.tar'))).equals(v2.tarBytes));
  await assertSameTree(join(to, 'VisA'), v2.source);
});

test('size mismatches are errors and leave nothing half-done', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes } = await makeArchive(dir);
  // The same ETag with another total size in Content-Range.
  const lying = await startServer((req, res, i) => serveBytes(req, res, tarBytes, i === 0 ? { cutAt: 150_000 } : { claimTotal: tarBytes.length + 4096 }));
  const to = join(dir, 'a');
  await rejectsWith(downloadVisa({ to, url: lying.url('/VisA.tar'), ...fast }), 'ERR_NETWORK', /size mismatch: the server now reports \d+ bytes in total, \d+ before, for the same ETag/);
  assert.deepEqual(await readdir(to), []);
  // An answer that ends (cleanly, chunked) before the end its Content-Range announced.
  const short = await startServer((req, res, i) => serveBytes(req, res, tarBytes, i === 0 ? { cutAt: 150_000 } : { chunkedEndAt: 1000 }));
  const to2 = join(dir, 'b');
  await rejectsWith(downloadVisa({ to: to2, url: short.url('/VisA.tar'), ...fast }), 'ERR_NETWORK', /size mismatch: the answer ended at byte 151000, Content-Range promised bytes up to \d+/);
  assert.deepEqual(await readdir(to2), []);
});

test('a part that is already complete (stopped before its rename) is finished through a 416', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes, source } = await makeArchive(dir);
  const server = await startServer((req, res) => serveBytes(req, res, tarBytes));
  const to = join(dir, 'data');
  const url = server.url('/VisA.tar');
  await writeBytes(join(to, 'VisA.tar.part'), tarBytes);
  await writeFile(join(to, 'VisA.tar.part.json'), JSON.stringify({ url, etag: '"v1"', lastModified: null, total: tarBytes.length }));
  const summary = await downloadVisa({ to, url, ...fast });
  assert.deepEqual(server.requests.map((r) => r.range), [`bytes=${tarBytes.length}-`]);
  assert.equal(summary.bytes, tarBytes.length);
  await assertSameTree(join(to, 'VisA'), source);
});

test('redirects are followed; an archive without a wrapping folder lands in DIR/VisA too', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { tarBytes, source } = await makeArchive(dir, { wrap: false });
  const server = await startServer((req, res) => {
    if (req.url === '/old/VisA.tar') {
      res.writeHead(302, { location: '/new/VisA.tar' });
      res.end();
    } else serveBytes(req, res, tarBytes);
  });
  const to = join(dir, 'data');
  await downloadVisa({ to, url: server.url('/old/VisA.tar'), ...fast });
  assert.deepEqual(server.requests.map((r) => r.path), ['/old/VisA.tar', '/new/VisA.tar']);
  await assertSameTree(join(to, 'VisA'), source);
});

test('offline: a refused connection or an unknown host is a clear ERR_NETWORK naming the URL', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const url = `http://127.0.0.1:${await closedPort()}/VisA.tar`;
  await rejectsWith(downloadVisa({ to: dir, url, ...fast }), 'ERR_NETWORK', new RegExp(`cannot reach ${url.replace(/[.]/g, '\\.')}: the connection was refused \\(ECONNREFUSED\\).*offline`));
  // .invalid never resolves (RFC 2606): ENOTFOUND, or EAI_AGAIN where no resolver answers.
  await rejectsWith(downloadVisa({ to: dir, url: 'http://visa.invalid/VisA.tar', ...fast }), 'ERR_NETWORK', /cannot reach http:\/\/visa\.invalid\/VisA\.tar: .*\((ENOTFOUND|EAI_AGAIN)\)/);
  assert.deepEqual(await readdir(dir), []);
});

test('HTTP errors, a corrupt archive and a foreign DIR/VisA are clear errors', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const server = await startServer((req, res) => {
    if (req.url === '/missing.tar') {
      res.writeHead(404);
      res.end();
    } else serveBytes(req, res, Buffer.from('this is not a tar archive, only text '.repeat(40)));
  });
  await rejectsWith(downloadVisa({ to: join(dir, 'a'), url: server.url('/missing.tar'), ...fast }), 'ERR_NETWORK', /HTTP 404 .*missing\.tar/);
  const to = join(dir, 'b');
  await rejectsWith(downloadVisa({ to, url: server.url('/VisA.tar'), ...fast }), 'ERR_BAD_INPUT', /not a readable tar archive.*delete it/);
  assert.deepEqual(await readdir(to), ['VisA.tar'], 'no dataset folder, no staging folder');
  const foreign = join(dir, 'c');
  await mkdir(join(foreign, 'VisA'), { recursive: true });
  await rejectsWith(downloadVisa({ to: foreign, url: server.url('/VisA.tar'), ...fast }), 'ERR_BAD_INPUT', /exists but was not made by spotdiff download/);
});
