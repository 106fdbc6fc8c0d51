import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A temporary folder removed when the test file ends. */
export function tempDir(prefix = 'spotdiff-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The repository root (tests run from dist/test/..., sources and fixtures live beside). */
export const repoRoot: string = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
