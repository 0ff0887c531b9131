import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether a socket's peer is this machine. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. */
export function hasMetricsToken(authorization: string | undefined, token: string | null): boolean {
  if (!token || !authorization) return false;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}
