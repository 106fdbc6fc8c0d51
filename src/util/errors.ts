/**
 * The one error type spotdiff throws for problems a user can fix: bad input, missing files,
 * wrong sizes. `code` is stable so scripts and tests can tell errors apart; the message says
 * what was wrong and, where it can, what to do.
 */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_NOT_FOUND'
  | 'ERR_BAD_INPUT'
  | 'ERR_BAD_IMAGE'
  | 'ERR_BAD_CSV'
  | 'ERR_BAD_CHECKPOINT'
  | 'ERR_SHAPE'
  | 'ERR_DTYPE'
  | 'ERR_TORCH'
  | 'ERR_DISPOSED'
  | 'ERR_NETWORK'
  | 'ERR_IO'
  | 'ERR_VERSION';

export class SpotdiffError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpotdiffError';
    this.code = code;
  }
}

export function isSpotdiffError(e: unknown, code?: ErrorCode): e is SpotdiffError {
  return e instanceof SpotdiffError && (code === undefined || e.code === code);
}
