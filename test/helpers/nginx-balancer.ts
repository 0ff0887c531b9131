import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const SHIPPED_CONFIG = path.resolve(import.meta.dirname, '../../deploy/nginx.conf');

/** Debian's nginx (package nginx-light, installed by `./dt test`). */
export const NGINX_BINARY = '/usr/sbin/nginx';

export interface NginxBalancer {
  url: string;
  /** What `nginx -t` printed for the generated configuration. */
  configTest: string;
  /** nginx's error log so far (warnings included). */
  errorLog(): Promise<string>;
  close(): Promise<void>;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs the shipped `deploy/nginx.conf` unchanged except for its addresses: the compose service
 * names become the given `host:port` upstreams and the listen port a free loopback one. It is
 * included, as the nginx image includes conf.d/*.conf, from a minimal main configuration whose
 * pid, logs and temp paths live in a directory of the test's own.
 */
export async function startNginxBalancer(upstreams: string[]): Promise<NginxBalancer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-nginx-'));
  // nginx workers run as nobody when started by root: they must be able to write the temp paths.
  await chmod(dir, 0o777);
  const port = await freePort();
  const shipped = await readFile(SHIPPED_CONFIG, 'utf8');
  const servers = shipped.match(/^\s*server api-\d+:8080;$/gm) ?? [];
  if (servers.length === 0 || !/^\s*listen 8080;$/m.test(shipped))
    throw new Error(
      'deploy/nginx.conf no longer has the upstream servers or listen line this helper rewrites',
    );
  const site = shipped
    .replace(/^(\s*)server api-\d+:8080;\n/gm, '')
    .replace(
      /^(\s*)keepalive /m,
      (_, indent: string) =>
        `${upstreams.map((upstream) => `${indent}server ${upstream};\n`).join('')}${indent}keepalive `,
    )
    .replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`);
  await writeFile(path.join(dir, 'site.conf'), site);
  const temp = (name: string) => path.join(dir, name);
  for (const name of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(temp(name), { mode: 0o777 });
  const mainConfig = path.join(dir, 'nginx.conf');
  await writeFile(
    mainConfig,
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${temp('nginx.pid')};`,
      `error_log ${temp('error.log')} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${temp('body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      `  include ${temp('site.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const args = ['-p', dir, '-c', mainConfig];
  const tested = await run(NGINX_BINARY, ['-t', ...args]).catch((error: { stderr?: string }) => {
    throw new Error(`nginx -t refused the configuration:\n${error.stderr ?? String(error)}`);
  });
  const child: ChildProcess = spawn(NGINX_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`nginx did not start listening on ${port}: ${stderr}`);
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    configTest: tested.stderr,
    errorLog: () => readFile(temp('error.log'), 'utf8').catch(() => ''),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
