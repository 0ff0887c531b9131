import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectTestRedis,
  deleteKeysWithPrefix,
  TEST_REDIS_URL,
  testKeyPrefix,
} from '../helpers/test-redis.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'serve'];
const children: ChildProcess[] = [];

function startCli(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, CLI, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('doc-transcribe serve', () => {
  it('refuses to start on bad configuration, listing every problem at once', async () => {
    const cli = startCli({ PORT: 'eighty', OCR_DPI: '9000', REDIS_URL: 'http://nope' });
    expect(await cli.exited).toBe(2);
    const output = cli.output();
    for (const name of ['PORT', 'OCR_DPI', 'REDIS_URL']) expect(output).toContain(name);
    expect(output).toContain('docs/configuration.md');
  });

  it('starts, prints its URL, serves, and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dt-cli-'));
    const prefix = testKeyPrefix('cli');
    const cli = startCli({
      PORT: '0',
      DATA_DIR: dataDir,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
    });
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline) {
      url = /running at (http:\/\/\S+)/.exec(cli.output())?.[1];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(url).toBeDefined();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const logLines = cli
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logLines.some((l) => l.event === 'auth.local_mode')).toBe(true);
    // The Redis URL is logged without credentials, never in full from the environment.
    expect(logLines.find((l) => l.event === 'redis.connected')).toMatchObject({ key_prefix: prefix });
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain('"event":"service.stopped"');
    const redis = connectTestRedis();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
    await rm(dataDir, { recursive: true, force: true });
  });
});
