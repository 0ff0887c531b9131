import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../contract/index.js';

/**
 * Addresses a webhook must never reach from the server: loopback, private networks, link-local
 * (cloud metadata at 169.254.169.254 included), carrier-grade NAT, multicast and the like.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['fd00:ec2::', 32],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** Whether a resolved address is one webhooks may not be sent to. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
    if (mapped?.[1]) return FORBIDDEN.check(mapped[1], 'ipv4');
    return FORBIDDEN.check(address, 'ipv6');
  }
  return FORBIDDEN.check(address, 'ipv4');
}

/** An absolute http(s) URL without credentials, or WEBHOOK_URL_INVALID. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new AppError('WEBHOOK_URL_INVALID', undefined, { cause: error });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new AppError('WEBHOOK_URL_INVALID');
  }
  return url;
}

/** Every address a host name resolves to (the system resolver; tests pass one that rebinds). */
export type ResolveHost = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: ResolveHost = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Resolves a host as the connection will and refuses it when any of its addresses is forbidden. */
export async function resolveAllowedAddresses(
  hostname: string,
  allowPrivate: boolean,
  resolveHost: ResolveHost = systemResolver,
): Promise<Array<{ address: string; family: number }>> {
  const host = hostname.replace(/^\[|\]$/g, '');
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolveHost(host);
    } catch (error) {
      throw new AppError('WEBHOOK_TARGET_UNRESOLVED', undefined, { cause: error });
    }
  }
  if (addresses.length === 0) throw new AppError('WEBHOOK_TARGET_UNRESOLVED');
  if (!allowPrivate && addresses.some(({ address }) => isForbiddenAddress(address))) {
    throw new AppError('WEBHOOK_TARGET_FORBIDDEN');
  }
  return addresses;
}

/** Checked when a callback URL is given (submit, PUT /v1/webhook) and again at every delivery. */
export async function checkWebhookTarget(
  raw: string,
  allowPrivate: boolean,
  resolveHost?: ResolveHost,
): Promise<URL> {
  const url = parseWebhookUrl(raw);
  await resolveAllowedAddresses(url.hostname, allowPrivate, resolveHost);
  return url;
}
