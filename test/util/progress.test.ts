import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress } from '../../src/util/progress.js';

function capture(tty: boolean): { stream: NodeJS.WriteStream; lines: () => string[] } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  (w as { isTTY?: boolean }).isTTY = tty;
  return { stream: w, lines: () => text.split('\n').filter((l) => l.length > 0) };
}

test('in a log, the first tick and the finish print one line each; a finish right after the last tick adds nothing', () => {
  const out = capture(false);
  const p = new Progress({ total: 3, label: 'work', unit: 'step', stream: out.stream });
  p.tick(1, 'loss 1.0');
  p.tick(1, 'loss 0.5'); // within 5 s of the last line: not printed
  p.tick(1, 'loss 0.2');
  p.finish();
  const lines = out.lines();
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0]!, /^work \[########-+\] 1\/3 .*loss 1\.0$/);
  assert.match(lines[1]!, /^work \[#{24}\] 3\/3 .*loss 0\.2$/);
  p.finish();
  assert.equal(out.lines().length, 2);
});

test('on a terminal the bar redraws one line and ends it with a newline; disabled prints nothing', () => {
  const out = capture(true);
  const p = new Progress({ total: 2, label: 'x', stream: out.stream });
  p.tick(2);
  p.finish('done');
  assert.ok(out.lines().every((l) => l.startsWith('\r\x1b[K')));
  const quiet = capture(false);
  const q = new Progress({ total: 2, label: 'x', stream: quiet.stream, enabled: false });
  q.tick(2);
  q.finish();
  assert.deepEqual(quiet.lines(), []);
});
