import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectTestRedis,
  deleteKeysWithPrefix,
  TEST_REDIS_URL,
  testKeyPrefix,
} from '../helpers/test-redis.js';

// An API process holds only what it serves with: the cloud storage SDKs load when their driver is
// configured, the engines' SDKs only in processes that run jobs (each costs 10–30 MB of memory).
const SDKS_NOT_FOR_THE_API = [
  '@aws-sdk/client-s3',
  '@google-cloud/storage',
  '@google/genai',
  'openai',
  'tesseract.js',
];

const dirs: string[] = [];
const prefixes: string[] = [];

afterAll(async () => {
  const redis = connectTestRedis();
  for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Starts `serve --role api`, waits until it is up, stops it: the bare package names it imported. */
async function packagesImportedByApi(env: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-imports-'));
  dirs.push(dir);
  const log = path.join(dir, 'imports.txt');
  const hook = path.join(dir, 'hook.mjs');
  const register = path.join(dir, 'register.mjs');
  // A module resolve hook that writes down every bare specifier resolved.
  await writeFile(
    hook,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (!/^(node:|file:|data:|\\.|\\/)/.test(specifier)) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
  return next(specifier, context);
}
`,
  );
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
  );
  await writeFile(log, '');
  const prefix = testKeyPrefix('imports-api');
  prefixes.push(prefix);
  const child = spawn(
    process.execPath,
    ['--import', register, '--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', 'api'],
    {
      env: {
        ...process.env,
        PORT: '0',
        DATA_DIR: path.join(dir, 'data'),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('"event":"api.listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the API exited with ${code}:\n${output}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return new Set((await readFile(log, 'utf8')).split('\n').filter(Boolean));
}

describe('what a process loads at start', () => {
  it('an API process on local storage loads no cloud storage SDK and no engine SDK', async () => {
    const imported = await packagesImportedByApi();
    expect(imported.has('fastify')).toBe(true);
    for (const sdk of SDKS_NOT_FOR_THE_API) expect(imported, sdk).not.toContain(sdk);
    // No identity provider configured (local mode): no token is ever verified, so no JOSE library.
    expect(imported).not.toContain('jose');
  }, 90_000);
});
