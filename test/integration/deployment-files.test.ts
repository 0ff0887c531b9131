import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envSchema } from '../../src/config/config-schema.js';

// Read by the SDKs' credential chains or by third-party images, not by our config schema.
const FOREIGN = /^(AWS_|MINIO_|GOOGLE_)/;
const known = new Set(Object.keys(envSchema.shape));

interface ComposeFile {
  services: Record<
    string,
    { image?: string; build?: unknown; command?: string[]; environment?: Record<string, string> }
  >;
}

describe('the deployment files', () => {
  it('compose.yaml runs the documented topology, with only variables the service knows', async () => {
    const compose = parse(await readFile('compose.yaml', 'utf8'), { merge: true }) as ComposeFile;
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['redis', 'minio', 'api-1', 'api-2', 'worker-ocr', 'worker-transcription']),
    );
    expect(compose.services.redis?.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(compose.services['worker-ocr']?.environment?.WORKER_QUEUES).toBe('ocr');
    expect(compose.services['worker-transcription']?.environment?.WORKER_QUEUES).toBe('transcription');
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.build) continue;
      const env = envSchema.safeParse(service.environment ?? {});
      expect(env.success, `${name}: ${JSON.stringify(env.error?.issues)}`).toBe(true);
      for (const key of Object.keys(service.environment ?? {})) {
        if (!FOREIGN.test(key)) expect(known, `${name} sets ${key}`).toContain(key);
      }
    }
  });

  it('the Dockerfile builds in stages, runs as a non-root user and checks /healthz', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER doc-transcribe$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    const setup = await readFile('scripts/setup.sh', 'utf8');
    const runtime = /RUNTIME_PACKAGES=\(([^)]*)\)/.exec(setup)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
    for (const pkg of runtime.filter((p) => !p.startsWith('redis-'))) expect(dockerfile).toContain(pkg);
    for (const name of [...dockerfile.matchAll(/^\s+([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] ?? '')) {
      if (name !== 'NODE_ENV' && name !== 'OMP_THREAD_LIMIT') expect(known).toContain(name);
    }
  });
});
