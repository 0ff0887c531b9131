import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export type ChildFailureKind = 'missing' | 'exit' | 'timeout' | 'aborted';

/** A child process that did not finish cleanly, with the reason as a value (not message text). */
export class ChildProcessError extends Error {
  readonly kind: ChildFailureKind;
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(kind: ChildFailureKind, command: string, exitCode: number | null, stderrTail: string) {
    super(`${command} ${kind}${exitCode === null ? '' : ` (exit ${exitCode})`}: ${stderrTail.slice(-300)}`);
    this.name = 'ChildProcessError';
    this.kind = kind;
    this.command = command;
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
  }
}

export interface RunOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Piped to the child's stdin, then closed. */
  stdin?: Readable | Buffer;
  /** Called for each complete stdout line; stdout is then not accumulated. */
  onStdoutLine?: (line: string) => void;
  /** Keep at most this many bytes of stdout (default 64 MiB). */
  maxStdoutBytes?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

const STDERR_TAIL_BYTES = 8 * 1024;

/**
 * Runs a command without a shell. Cancel (signal) and timeouts kill the whole child at once,
 * so a cancelled job stops using CPU immediately.
 */
export function runChildProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ChildProcessError('aborted', command, null, ''));
      return;
    }
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
    let stderr = '';
    let pendingLine = '';
    let failure: ChildFailureKind | undefined;

    const kill = (kind: ChildFailureKind) => {
      failure ??= kind;
      child.kill('SIGKILL');
    };
    const onAbort = () => kill('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = options.timeoutMs ? setTimeout(() => kill('timeout'), options.timeoutMs) : undefined;

    child.stdout?.on('data', (chunk: Buffer) => {
      if (options.onStdoutLine) {
        const text = pendingLine + chunk.toString('utf8');
        const lines = text.split('\n');
        pendingLine = lines.pop() ?? '';
        for (const line of lines) options.onStdoutLine(line);
        return;
      }
      if (stdoutBytes < maxStdout) {
        stdoutChunks.push(chunk);
        stdoutBytes += chunk.length;
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    if (options.stdin && child.stdin) {
      // EPIPE when the child exits early is reported through the exit code instead.
      child.stdin.on('error', () => {});
      if (Buffer.isBuffer(options.stdin)) child.stdin.end(options.stdin);
      else options.stdin.pipe(child.stdin);
    }

    const finish = () => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish();
      reject(
        new ChildProcessError(error.code === 'ENOENT' ? 'missing' : 'exit', command, null, error.message),
      );
    });
    child.on('close', (code) => {
      finish();
      if (pendingLine && options.onStdoutLine) options.onStdoutLine(pendingLine);
      if (failure) reject(new ChildProcessError(failure, command, code, stderr));
      else if (code !== 0) reject(new ChildProcessError('exit', command, code, stderr));
      else resolve({ stdout: Buffer.concat(stdoutChunks), stderr });
    });
  });
}
