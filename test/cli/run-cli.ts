import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/tmp.js';

/** The compiled CLI entry point. */
export const cliMain = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `spotdiff <args>` in a child process without blocking this one (tests may serve HTTP to
 * it); `onStart` gets the child, e.g. to kill it.
 */
export function runCli(args: string[], onStart?: (child: ChildProcess) => void): Promise<CliResult> {
  return runProcess(process.execPath, [cliMain, ...args], process.env, onStart);
}

/** Runs `command args` with `env`, collecting its output: runCli's way, for other launches of the CLI. */
export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, onStart?: (child: ChildProcess) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(child);
  });
}
