/** What every `spotdiff <verb>` file exports. */
export interface Command {
  /** One line for `spotdiff --help`. */
  summary: string;
  /** Full usage text for `spotdiff <verb> --help`. */
  usage: string;
  /** Runs the command; resolves to the exit code (0 ok, 1 failed). Usage errors throw SpotdiffError('ERR_USAGE'). */
  run(argv: string[]): Promise<number>;
}
