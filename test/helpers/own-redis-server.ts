import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/** A Redis server of the test's own (on a free port), for tests that stop or restart Redis. */
export interface OwnRedisServer {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/** Assigns all 16384 slots to the one node (kept in nodes.conf across restarts) and waits for `ok`. */
async function claimAllSlots(url: string, deadline: number): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = String(await client.call('CLUSTER', 'INFO'));
    if (!info.includes('cluster_slots_assigned:16384'))
      await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    while (Date.now() < deadline) {
      if (String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) return;
      await sleep(50);
    }
    throw new Error('one-node cluster did not reach cluster_state:ok');
  } finally {
    client.disconnect();
  }
}

/**
 * `appendFsyncAlways` makes every write durable before Redis answers it, so a SIGKILL loses
 * nothing acknowledged (production's `everysec` may lose up to the last second).
 * `cluster` starts a one-node Redis Cluster that owns every slot: it enforces the same CROSSSLOT
 * rule for multi-key commands and scripts as a real cluster, without redirects.
 */
export async function ownRedisServer(
  options: { appendOnly?: boolean; appendFsyncAlways?: boolean; cluster?: boolean } = {},
): Promise<OwnRedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused connections are expected while the server starts.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };

  const server: OwnRedisServer = {
    url,
    port,
    async start() {
      child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          options.appendOnly ? 'yes' : 'no',
          ...(options.appendOnly && options.appendFsyncAlways ? ['--appendfsync', 'always'] : []),
          ...(options.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] : []),
        ],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (await ping()) {
          if (options.cluster) await claimAllSlots(url, deadline);
          return;
        }
        await sleep(50);
      }
      throw new Error(`redis-server on port ${port} did not start`);
    },
    async stop() {
      // A killed child has a signalCode and no exitCode.
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async dispose() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
