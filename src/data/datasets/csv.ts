import { readFile } from 'node:fs/promises';
import { SpotdiffError } from '../../util/errors.js';

/** One CSV row as a column -> value record, with the 1-based line it started on. */
export interface CsvRecord {
  line: number;
  values: Record<string, string>;
}

/**
 * Parses RFC 4180 CSV: quoted fields with "" escapes and embedded commas or newlines, CRLF or LF
 * line ends, an optional UTF-8 BOM. Blank lines are skipped. Returns rows with their start lines.
 */
export function parseCsvRows(text: string, file: string): { line: number; fields: string[] }[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  const endRow = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new SpotdiffError('ERR_BAD_CSV', `${file}: unterminated quoted field starting on line ${rowLine}`);
  if (field !== '' || fields.length > 0 || fieldStarted) endRow();
  return rows;
}

/** Reads a CSV with a header row that must contain `required` columns. */
export async function readCsv(path: string, required: readonly string[]): Promise<CsvRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpotdiffError(code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const rows = parseCsvRows(text, path);
  const header = rows.shift();
  if (!header) throw new SpotdiffError('ERR_BAD_CSV', `${path} is empty (expected a header with ${required.join(',')})`);
  const columns = header.fields.map((f) => f.trim());
  const missing = required.filter((r) => !columns.includes(r));
  if (missing.length > 0) {
    throw new SpotdiffError('ERR_BAD_CSV', `${path}: missing column(s) ${missing.join(', ')}; header is "${columns.join(',')}"`);
  }
  return rows.map((r) => {
    if (r.fields.length !== columns.length) {
      throw new SpotdiffError('ERR_BAD_CSV', `${path} line ${r.line}: ${r.fields.length} fields, header has ${columns.length}`);
    }
    const values: Record<string, string> = {};
    columns.forEach((c, i) => (values[c] = (r.fields[i] as string).trim()));
    return { line: r.line, values };
  });
}
