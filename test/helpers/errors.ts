import assert from 'node:assert/strict';
import { isSpotdiffError, type ErrorCode } from '../../src/util/errors.js';

/** For assert.throws / assert.rejects: a SpotdiffError of `code` whose message matches `pattern`. */
export function rejectsWith(code: ErrorCode, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isSpotdiffError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  };
}
