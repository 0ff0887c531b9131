import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../helpers/test-redis.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'serve'];
const children: ChildProcess[] = [];

function runCli(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
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
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('doc-transcribe serve without an identity provider', () => {
  it('refuses to bind a non-loopback HOST in local mode (exit 2), naming the way out', async () => {
    const { code, output } = await runCli({ HOST: '0.0.0.0', PORT: '0', REDIS_URL: TEST_REDIS_URL });
    expect(code).toBe(2);
    expect(output).toContain('HOST');
    expect(output).toContain('AUTH_ALLOW_INSECURE_LOCAL');
    expect(output).toContain('AUTH_OIDC_ISSUER');
  });

  it('refuses an issuer without a client id or anyone allowed in (exit 2)', async () => {
    const { code, output } = await runCli({ AUTH_OIDC_ISSUER: 'https://issuer.example', PORT: '0' });
    expect(code).toBe(2);
    expect(output).toContain('AUTH_OIDC_CLIENT_ID');
    expect(output).toContain('AUTH_ALLOWED_EMAILS');
  });
});
