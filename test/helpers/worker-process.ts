import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TEST_REDIS_URL, testKeyPrefix } from './test-redis.js';
import { LIMITS_OFF, startTestService, type TestService } from './test-service.js';

/** A real service process (`serve --role …` from dist/) and the JSON log lines it wrote. */
export interface WorkerProcess {
  child: ChildProcess;
  logs: () => Array<Record<string, unknown>>;
  /** The exit code (null when killed by a signal), once the process closed its output. */
  exited: Promise<number | null>;
}

/**
 * Starts `node dist/cli/main.js serve --role worker` on the test Redis with the given data dir and
 * key prefix; `env` adds or overrides settings (concurrency, lock and stall times, engines).
 */
export function startWorkerProcess(
  dataDir: string,
  prefix: string,
  env: Record<string, string> = {},
): WorkerProcess {
  return spawnService('worker', dataDir, prefix, { RECONCILER_INTERVAL_MS: '0', ...env });
}

/** `serve --role api` as its own process (limits off, as in startTestService), once it listens. */
export async function startApiProcess(
  dataDir: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<WorkerProcess & { url: string }> {
  const api = spawnService('api', dataDir, prefix, {
    PORT: '0',
    ...LIMITS_OFF,
    ...env,
  });
  const listening = () => api.logs().find((line) => line.event === 'api.listening');
  await waitUntil(() => listening() !== undefined || api.child.exitCode !== null, 'the API to listen');
  const url = listening()?.url;
  if (typeof url !== 'string') throw new Error(`the API did not start: ${JSON.stringify(api.logs())}`);
  return { ...api, url };
}

function spawnService(
  role: 'api' | 'worker',
  dataDir: string,
  prefix: string,
  env: Record<string, string>,
): WorkerProcess {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--role', role], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept apart so that a line of one stream is never cut by a chunk of the other.
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString('utf8');
  });
  // 'close', not 'exit': only then has everything the process wrote been read.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const logs = () =>
    `${output.stdout}\n${output.stderr}`
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, logs, exited };
}

/** Polls `check` every 50 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An API (in this process, `SERVICE_ROLE=api`) and the worker processes a test starts for it. */
export interface WorkerFleet {
  svc: TestService;
  prefix: string;
  /** A scratch directory for the test's input files. */
  dir: string;
  /** Starts a worker process with the fleet's settings; `close` kills whatever is left. */
  startWorker(): WorkerProcess;
  close(): Promise<void>;
}

export async function startWorkerFleet(
  name: string,
  workerEnv: Record<string, string>,
): Promise<WorkerFleet> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `dt-${name}-`));
  const prefix = testKeyPrefix(name);
  const svc = await startTestService(name, { SERVICE_ROLE: 'api', REDIS_KEY_PREFIX: prefix });
  const children: ChildProcess[] = [];
  return {
    svc,
    prefix,
    dir,
    startWorker() {
      const worker = startWorkerProcess(svc.dataDir, prefix, workerEnv);
      children.push(worker.child);
      return worker;
    },
    async close() {
      for (const child of children) child.kill('SIGKILL');
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
