import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ServiceProcess {
  pid: number;
  /** The API's URL (roles `api` and `all`); empty for workers. */
  url: string;
  /** Every JSON log line the process printed. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The V8 flags every launcher gives the service: those of the bin's shebang (`env -S node …`). */
export function serviceNodeFlags(): string[] {
  const shebang = readFileSync('src/cli/main.ts', 'utf8').split('\n', 1)[0] ?? '';
  const [, flags = ''] = /^#!\/usr\/bin\/env -S node ?(.*)$/.exec(shebang) ?? [];
  return flags.split(' ').filter(Boolean);
}

/** `BENCH_SERVICE_NODE_FLAGS`, when set (even empty), replaces them: to measure another setting. */
function benchNodeFlags(): string[] {
  const override = process.env.BENCH_SERVICE_NODE_FLAGS;
  return override === undefined ? serviceNodeFlags() : override.split(' ').filter(Boolean);
}

/**
 * Starts `doc-transcribe serve --role <role>` as its own process, as an operator would (so its
 * memory and CPU are its own, not the load generator's), and waits until it is up.
 */
export async function startServiceProcess(
  role: 'api' | 'worker' | 'all',
  env: Record<string, string>,
  options: { keepLogs?: boolean } = {},
): Promise<ServiceProcess> {
  // The built program, as in production (tsx's on-the-fly compiling costs ~60 MB of RSS); the
  // sources when there is no build (the smoke test).
  const program = existsSync('dist/cli/main.js')
    ? ['dist/cli/main.js']
    : ['--import', 'tsx', 'src/cli/main.ts'];
  const child: ChildProcess = spawn(
    process.execPath,
    [...benchNodeFlags(), ...program, 'serve', '--role', role],
    {
      env: { ...process.env, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: Array<Record<string, unknown>> = [];
  let pending = '';
  let stderr = '';
  const ready = role === 'worker' ? 'worker.started' : 'api.listening';
  let started = false;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start:\n${stderr}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      // Under load the bench only drains the logs: parsing them would load the bench's own CPU.
      if (started && !options.keepLogs) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.event === ready) {
          started = true;
          clearTimeout(timer);
          resolve(typeof entry.url === 'string' ? entry.url : '');
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('exit', (code) => reject(new Error(`${role} exited with ${code}:\n${stderr}`)));
  });
  return {
    pid: child.pid ?? 0,
    url,
    logs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Peak resident set size of a live process so far (VmHWM), in MiB (2^20 bytes). */
export async function peakRssMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}
