import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { pageRoutes, PAGE_URL } from '../../src/serve/page-routes.js';
import { SpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';

/** The page's routes on a bare fastify instance: a page folder of our own, an ONNX source that fails once. */
test('page routes: / redirects to the page with the model preselected, only built files are served, model.onnx', async () => {
  const dir = join(tempDir(), 'inspect');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html>page');
  writeFileSync(join(dir, 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dir, 'notes.txt'), 'not a page file');
  let calls = 0;
  const onnx = async (): Promise<Uint8Array> => {
    calls++;
    if (calls === 1) throw new SpotdiffError('ERR_BAD_INPUT', 'this model scores by 32 px tiles');
    return new Uint8Array([8, 9, 10]);
  };
  const app = Fastify();
  pageRoutes(app, { onnx, modelName: 'parts "a"', dir });
  try {
    const root = await app.inject({ url: '/' });
    assert.deepEqual([root.statusCode, root.headers.location], [302, PAGE_URL]);
    const page = await app.inject({ url: '/page/index.html' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.equal(page.body, '<!doctype html>page');
    const wasm = await app.inject({ url: '/page/x.wasm' });
    assert.deepEqual([wasm.statusCode, wasm.headers['content-type']], [200, 'application/wasm']);
    for (const url of ['/page/notes.txt', '/page/..%2F..%2Fpackage.json', '/page/nope.js']) assert.equal((await app.inject({ url })).statusCode, 404, url);

    const refused = await app.inject({ url: '/v1/model.onnx' });
    assert.equal(refused.statusCode, 501);
    assert.deepEqual(refused.json(), { error: 'ERR_BAD_INPUT', message: 'this model has no ONNX form for the page: this model scores by 32 px tiles' });
    const model = await app.inject({ url: '/v1/model.onnx' });
    assert.equal(model.statusCode, 200);
    assert.deepEqual([...model.rawPayload], [8, 9, 10]);
    assert.equal(model.headers['content-disposition'], 'attachment; filename="parts__a_.onnx"');
  } finally {
    await app.close();
  }
});

test('page routes: an unbuilt page is a 404 that says how to build it', async () => {
  const app = Fastify();
  pageRoutes(app, { onnx: async () => new Uint8Array(0), modelName: 'm', dir: join(tempDir(), 'missing') });
  try {
    for (const url of ['/', '/page/index.html']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 404);
      assert.match((r.json() as { message: string }).message, /not built .*node scripts\/build-web\.mjs/);
    }
  } finally {
    await app.close();
  }
});
