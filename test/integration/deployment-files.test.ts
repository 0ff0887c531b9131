import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { serviceNodeFlags } from '../../bench/shared/service-process.js';
import { envSchema } from '../../src/config/config-schema.js';

// Read by the SDKs' credential chains or by third-party images, not by our config schema.
const FOREIGN = /^(AWS_|MINIO_|GOOGLE_)/;
const known = new Set(Object.keys(envSchema.shape));

interface ComposeFile {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      volumes?: string[];
      depends_on?: Record<string, unknown>;
    }
  >;
}

/** The value of a directive such as `proxy_buffering off;` in an nginx config, comments left out. */
function directive(config: string, name: string): string[] {
  return [...config.replace(/#.*$/gm, '').matchAll(new RegExp(`^\\s*${name}[ \\t]+([^;{}\\n]+);`, 'gm'))].map(
    (m) => m[1]?.trim() ?? '',
  );
}

/** nginx sizes (`2049m`, `2g`, `512k`, bytes) in bytes. */
function nginxBytes(size: string): number {
  const [, digits, unit] = /^(\d+)([kmg]?)$/i.exec(size) ?? [];
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(unit ?? '').toLowerCase()] ?? Number.NaN;
  return Number(digits) * scale;
}

/** nginx times (`3600s`, `1h`, `90m`, bare seconds) in seconds. */
function nginxSeconds(time: string): number {
  const [, digits, unit] = /^(\d+)(s|m|h)?$/.exec(time) ?? [];
  return Number(digits) * ({ s: 1, m: 60, h: 3600 }[unit ?? 's'] ?? Number.NaN);
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

  it('compose.yaml puts an SSE- and upload-friendly nginx in front of the API replicas, the only way in', async () => {
    const compose = parse(await readFile('compose.yaml', 'utf8'), { merge: true }) as ComposeFile;
    const lb = compose.services.lb;
    expect(lb?.image).toMatch(/^nginx:/);
    expect(lb?.ports).toEqual(['8080:8080']);
    expect(lb?.volumes).toContain('./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro');
    expect(Object.keys(lb?.depends_on ?? {})).toEqual(expect.arrayContaining(['api-1', 'api-2']));
    const replicas = Object.entries(compose.services).filter(([, s]) => s.command?.includes('api'));
    expect(replicas.map(([name]) => name)).toEqual(['api-1', 'api-2']);
    for (const [name, service] of replicas) {
      // Reachable only through lb, which is the one proxy hop the API trusts for the client IP.
      expect(service.ports, name).toBeUndefined();
      expect(service.environment?.HTTP_TRUST_PROXY, name).toBe('1');
    }

    const config = await readFile('deploy/nginx.conf', 'utf8');
    const port = replicas[0]?.[1].environment?.PORT;
    expect(directive(config, 'server').sort()).toEqual(replicas.map(([name]) => `${name}:${port}`).sort());
    expect(directive(config, 'listen')).toEqual(['8080']);
    expect(directive(config, 'proxy_pass')).toEqual(['http://doc_transcribe_api']);
    // SSE events reach the browser one by one; uploads stream through instead of being spooled.
    expect(directive(config, 'proxy_buffering')).toEqual(['off']);
    expect(directive(config, 'proxy_request_buffering')).toEqual(['off']);
    expect(directive(config, 'proxy_http_version')).toEqual(['1.1']);
    expect(nginxSeconds(directive(config, 'proxy_read_timeout')[0] ?? '')).toBeGreaterThanOrEqual(3600);
    // The balancer lets through every upload the API accepts (plus the multipart envelope), so
    // the API answers an oversize file with its own 413 FILE_TOO_LARGE, not nginx's page.
    const uploadMax = envSchema.shape.UPLOAD_MAX_BYTES.parse(
      compose.services['api-1']?.environment?.UPLOAD_MAX_BYTES,
    );
    const bodyMax = nginxBytes(directive(config, 'client_max_body_size')[0] ?? '');
    expect(bodyMax).toBeGreaterThan(uploadMax);
    expect(bodyMax).toBeLessThanOrEqual(uploadMax + 16 * 1024 ** 2);
    expect(directive(config, 'proxy_set_header')).toContain('X-Forwarded-For $proxy_add_x_forwarded_for');
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

  it('every launcher starts the service with the same V8 flags as the bin', async () => {
    const flags = serviceNodeFlags();
    expect(flags).toEqual(['--max-semi-space-size=8']);
    const dockerfile = await readFile('Dockerfile', 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    expect(entrypoint).toEqual(['node', ...flags, 'dist/cli/main.js', 'serve']);
    const scripts = (
      JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts.start).toBe(`node ${flags.join(' ')} dist/cli/main.js serve`);
    // ./dt start runs `node "${SERVICE_NODE_FLAGS[@]}" dist/cli/main.js serve`.
    const setup = await readFile('scripts/setup.sh', 'utf8');
    expect(/^SERVICE_NODE_FLAGS=\(([^)]*)\)$/m.exec(setup)?.[1]?.split(' ')).toEqual(flags);
    expect(await readFile('dt', 'utf8')).toContain(
      `exec node "$\{SERVICE_NODE_FLAGS[@]}" dist/cli/main.js serve`,
    );
    // The build keeps the shebang, so the installed `doc-transcribe` bin gets them too.
    const built = (await readFile('dist/cli/main.js', 'utf8')).split('\n', 1)[0];
    expect(built).toBe(`#!/usr/bin/env -S node ${flags.join(' ')}`);
  });
});
