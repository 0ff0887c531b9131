import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../../test/helpers/webhook-receiver.js';
import { AppError } from '../contract/index.js';
import { checkWebhookTarget, type ResolveHost } from './check-webhook-target.js';
import { guardedLookup, sendWebhook } from './send-webhook.js';

const PUBLIC = { address: '93.184.216.34', family: 4 };
const LOOPBACK = { address: '127.0.0.1', family: 4 };

/** A name whose DNS answer changes after the first question: public when registered, loopback when sent. */
function rebindingResolver(): { resolve: ResolveHost; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolve: async (hostname) => {
      asked.push(hostname);
      return asked.length === 1 ? [PUBLIC] : [LOOPBACK];
    },
  };
}

function lookupOnce(
  lookup: ReturnType<typeof guardedLookup>,
  hostname: string,
  options: { all?: boolean; family?: number } = {},
): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[] }> {
  return new Promise((resolve) => {
    lookup(hostname, options, (error, address) => resolve({ error, address }));
  });
}

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function send(url: string, allowPrivateTargets: boolean, resolveHost?: ResolveHost) {
  return sendWebhook({
    url,
    secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    deliveryId: 'msg_test',
    body: '{}',
    timeoutMs: 5000,
    allowPrivateTargets,
    ...(resolveHost ? { resolveHost } : {}),
  });
}

describe('guardedLookup (the SSRF guard at connection time)', () => {
  it('refuses a name that resolved to a public address at registration and to loopback now', async () => {
    const dns = rebindingResolver();
    await expect(checkWebhookTarget('http://rebind.test/hooks', false, dns.resolve)).resolves.toBeInstanceOf(
      URL,
    );

    const { error } = await lookupOnce(guardedLookup(false, dns.resolve), 'rebind.test');
    expect(error).toBeInstanceOf(AppError);
    expect((error as unknown as AppError).code).toBe('WEBHOOK_TARGET_FORBIDDEN');
    expect(dns.asked).toEqual(['rebind.test', 'rebind.test']);
  });

  it('answers the checked addresses, all of them or the first of the family asked for', async () => {
    const both: ResolveHost = async () => [{ address: '2606:4700::1111', family: 6 }, PUBLIC];
    expect(await lookupOnce(guardedLookup(false, both), 'public.test', { all: true })).toEqual({
      error: null,
      address: [{ address: '2606:4700::1111', family: 6 }, PUBLIC],
    });
    expect(await lookupOnce(guardedLookup(false, both), 'public.test', { family: 4 })).toEqual({
      error: null,
      address: PUBLIC.address,
    });
  });
});

describe('sendWebhook to a host name that resolves to loopback', () => {
  it('gives up at send time with WEBHOOK_TARGET_FORBIDDEN and never connects, when private targets are not allowed', async () => {
    receiver = await startWebhookReceiver();
    const dns = rebindingResolver();
    const url = `http://rebind.test:${receiver.port}/hooks`;
    await checkWebhookTarget(url, false, dns.resolve);

    expect(await send(url, false, dns.resolve)).toEqual({
      kind: 'give_up',
      status: null,
      error: 'WEBHOOK_TARGET_FORBIDDEN',
    });
    expect(await send(`http://localhost:${receiver.port}/hooks`, false)).toEqual({
      kind: 'give_up',
      status: null,
      error: 'WEBHOOK_TARGET_FORBIDDEN',
    });
    expect(receiver.received).toHaveLength(0);
  });

  it('connects to the address the guard resolved when private targets are allowed', async () => {
    receiver = await startWebhookReceiver([{ status: 200 }]);
    // rebind.test exists only in this resolver: the request can only reach the receiver through it.
    const outcome = await send(`http://rebind.test:${receiver.port}/hooks`, true, async () => [LOOPBACK]);
    expect(outcome).toEqual({ kind: 'delivered', status: 200 });
    expect(receiver.received).toHaveLength(1);
  });
});
