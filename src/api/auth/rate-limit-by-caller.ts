import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../../contract/index.js';

export interface RateLimitOptions {
  redis: Redis;
  /** Key namespace under the service prefix (`<prefix>:ratelimit:`). */
  nameSpace: string;
  /** Requests per window for a signed-in caller, counted per user; 0: no limit. */
  max: number;
  /** Requests per window without valid credentials, counted per IP; 0: no limit. */
  anonymousMax: number;
  windowMs: number;
}

/** Checks one request against its caller's budget; throws `RATE_LIMITED` when it is spent. */
export type RateLimitCheck = (
  request: FastifyRequest,
  reply: FastifyReply,
  userId: string | null,
) => Promise<void>;

/**
 * Fixed-window counters in Redis (shared by every API replica) from @fastify/rate-limit, keyed by
 * user when the caller is known and by IP otherwise, answered with the IETF `RateLimit-Policy`
 * and `RateLimit` headers (draft-ietf-httpapi-ratelimit-headers) and `Retry-After` on 429.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  options: RateLimitOptions,
): Promise<RateLimitCheck> {
  await app.register(rateLimit, {
    global: false,
    redis: options.redis,
    nameSpace: options.nameSpace,
    timeWindow: options.windowMs,
  });
  const windowSec = Math.ceil(options.windowMs / 1000);
  const limiters = {
    user: options.max > 0 ? app.createRateLimit({ max: options.max, keyGenerator: keyOf }) : null,
    ip:
      options.anonymousMax > 0
        ? app.createRateLimit({ max: options.anonymousMax, keyGenerator: keyOf })
        : null,
  };

  return async (request, reply, userId) => {
    const policy = userId ? 'user' : 'ip';
    const limiter = limiters[policy];
    if (!limiter) return;
    request.rateLimitKey = userId ? `user:${userId}` : `ip:${request.ip}`;
    const result = await limiter(request);
    if (result.isAllowed) return;
    reply.header('ratelimit-policy', `"${policy}";q=${result.max};w=${windowSec}`);
    reply.header('ratelimit', `"${policy}";r=${result.remaining};t=${result.ttlInSeconds}`);
    if (result.isExceeded) {
      reply.header('retry-after', result.ttlInSeconds);
      throw new AppError('RATE_LIMITED', undefined, {
        details: { limit: result.max, window_sec: windowSec },
      });
    }
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    rateLimitKey?: string;
  }
}

function keyOf(request: FastifyRequest): string {
  return request.rateLimitKey ?? `ip:${request.ip}`;
}
