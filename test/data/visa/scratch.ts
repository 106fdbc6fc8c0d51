import { mkdtempSync, rmSync } from 'node:fs';
import { after } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';

/**
 * A temporary folder for tests that make thousands of small files: in memory (/dev/shm) where
 * there is one, because creating and deleting them on a disk mounted with discard takes minutes
 * and tests nothing; otherwise the usual temporary folder.
 */
export function scratchDir(): string {
  try {
    const dir = mkdtempSync('/dev/shm/spotdiff-test-');
    after(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  } catch {
    return tempDir();
  }
}
