import { readFileSync } from 'node:fs';

let cached: string | null = null;

/** This spotdiff's version (package.json), recorded in what it writes; 'unknown' when unreadable. */
export function spotdiffVersion(): string {
  if (cached === null) {
    try {
      cached = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
