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
  /**
   * Requests per window to the public routes (health, readiness, metrics, OpenAPI, /docs, the page,
   * `/v1/auth/config` and `/v1/auth/token`), counted per IP in a bucket of their own; 0: no limit.
   */
  publicMax: number;
  windowMs: number;
  /** Whether Redis is up: public routes (probes above all) are not limited while it is not. */
  isRedisReady?: () => boolean;
}

/** Whose budget a request is counted against. */
export type RateLimitBucket = { kind: 'user'; userId: string } | { kind: 'ip' } | { kind: 'public' };

/** Checks one request against its bucket's budget; throws `RATE_LIMITED` when it is spent. */
export type RateLimitCheck = (
  request: FastifyRequest,
  reply: FastifyReply,
  bucket: RateLimitBucket,
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
  const limiterOf = (max: number) => (max > 0 ? app.createRateLimit({ max, keyGenerator: keyOf }) : null);
  const limiters = {
    user: limiterOf(options.max),
    ip: limiterOf(options.anonymousMax),
    public: limiterOf(options.publicMax),
  };

  return async (request, reply, bucket) => {
    const policy = bucket.kind;
    const limiter = limiters[policy];
    if (!limiter) return;
    // Without Redis the counter cannot be read; /healthz and /readyz must still answer (the /v1
    // routes are refused with DEPENDENCY_UNAVAILABLE before they get here).
    if (policy === 'public' && options.isRedisReady && !options.isRedisReady()) return;
    request.rateLimitKey = bucket.kind === 'user' ? `user:${bucket.userId}` : `${bucket.kind}:${request.ip}`;
    const result = await limiter(request).catch((error: unknown) => {
      // A probe must not fail because Redis went away between the check above and the count.
      if (policy !== 'public') throw error;
      request.log.warn(
        { event: 'ratelimit.skipped', err: error },
        'public rate limit not counted: Redis failed',
      );
      return null;
    });
    if (!result) return;
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
