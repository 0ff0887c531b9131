import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  CONTENT_SUBTYPES,
  type JobType,
  OCR_ENGINES,
  OCR_MAX_BATCH_PAGES,
  OCR_POLICIES,
  OCR_PSM_MODES,
  type OcrEngineName,
  SPEECH_ENGINES,
  type SpeechEngineName,
} from '../contract/index.js';
import {
  FEATURE_FLAG_NAMES,
  FEATURE_FLAGS,
  type FeatureFlagName,
  featureFlagEnvName,
} from './feature-flag-registry.js';

const SERVICE_ROLES = ['all', 'api', 'worker'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];
const QUEUE_CHOICES = ['ocr', 'transcription'] as const;

/** Speech engines this build has (named in the contract, with the job options). */
export { SPEECH_ENGINES, type SpeechEngineName };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = () => z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const flagEnv = (fallback: boolean) => bool().default(fallback);

/** `FLAG_<NAME>` for every flag of the registry, defaulting to the registry's value. */
function featureFlagEnvShape() {
  return Object.fromEntries(
    FEATURE_FLAG_NAMES.map((name) => [featureFlagEnvName(name), flagEnv(FEATURE_FLAGS[name].default)]),
  ) as unknown as Record<`FLAG_${Uppercase<FeatureFlagName>}`, ReturnType<typeof flagEnv>>;
}

/** Comma-separated list, trimmed, lower-cased, empty entries dropped. */
const lowerList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    );

/** Asymmetric JWS algorithms only: `none` and HMAC (HS*) are never accepted for ID/access tokens. */
export const TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** `https://…`, or `http://` on a loopback host (a local identity provider, the tests' issuer). */
const providerUrl = () =>
  z.url().refine((v) => {
    const url = new URL(v);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  }, 'must be https:// (http:// only on a loopback host)');

/** Whether binding to `host` keeps the service reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
  );
}

/**
 * Fastify's trustProxy: `false` (default: the peer address is the client), `true` (trust every
 * peer's X-Forwarded-For: only when nothing can reach the service but the proxy), a hop count, or
 * the proxies' addresses/CIDRs (`10.0.0.0/8,127.0.0.1`).
 */
const trustProxy = () =>
  z
    .string()
    .default('false')
    .transform((value, ctx): boolean | number | string[] => {
      const v = value.trim().toLowerCase();
      if (v === 'false' || v === '0' || v === '') return false;
      if (v === 'true') return true;
      if (/^\d{1,2}$/.test(v)) return Number(v);
      const items = v.split(',').map((item) => item.trim());
      for (const item of items) {
        if (!/^[0-9a-f:.]+(\/\d{1,3})?$/.test(item) || !/[.:]/.test(item)) {
          ctx.addIssue({ code: 'custom', message: `not an IP address or CIDR: ${item}` });
          return z.NEVER;
        }
      }
      return items;
    });

/** Exact browser origins (`scheme://host[:port]`, no path), or `*`. */
const corsOrigins = () =>
  z
    .string()
    .default('')
    .transform((value, ctx) => {
      const origins: string[] = [];
      for (const item of value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        if (item === '*') {
          origins.push(item);
          continue;
        }
        let origin: string | undefined;
        try {
          origin = new URL(item).origin;
        } catch {
          origin = undefined;
        }
        if (!origin || origin === 'null' || origin !== item.replace(/\/$/, '')) {
          ctx.addIssue({
            code: 'custom',
            message: `"${item}" is not an origin like https://app.example.org`,
          });
          continue;
        }
        origins.push(origin);
      }
      return origins;
    });

/** TEST ONLY (fault injection): `transient=0.05,permanent=0.05,page_ms=20`; see fault-injection-engine.ts. */
const testFaultEngine = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '') return undefined;
    const spec = { transient: 0, permanent: 0, pageMs: 0 };
    for (const pair of value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [name = '', raw = ''] = pair.split('=').map((p) => p.trim());
      const number = Number(raw);
      const known =
        name === 'transient' || name === 'permanent'
          ? number >= 0 && number <= 1
          : name === 'page_ms' && Number.isInteger(number) && number >= 0;
      if (raw === '' || !known) {
        ctx.addIssue({
          code: 'custom',
          message: `"${pair}": expected transient=<0..1>, permanent=<0..1> or page_ms=<integer ms>`,
        });
        continue;
      }
      if (name === 'page_ms') spec.pageMs = number;
      else spec[name as 'transient' | 'permanent'] = number;
    }
    return spec;
  });

/** `subtype=engine` pairs, comma-separated: `jain_literature=gemini,general=tesseract`. */
const engineBySubtype = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const map: Partial<Record<string, OcrEngineName>> = {};
    for (const pair of value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [subtype = '', engine = ''] = pair.split('=').map((p) => p.trim());
      if (
        !(CONTENT_SUBTYPES as readonly string[]).includes(subtype) ||
        !(OCR_ENGINES as readonly string[]).includes(engine)
      ) {
        ctx.addIssue({
          code: 'custom',
          message: `"${pair}": expected subtype=engine with a subtype of ${CONTENT_SUBTYPES.join('|')} and an engine of ${OCR_ENGINES.join('|')}`,
        });
        continue;
      }
      map[subtype] = engine as OcrEngineName;
    }
    return map;
  });

/**
 * Every environment variable the service reads. Documented one by one in docs/configuration.md;
 * a test keeps the two in step.
 */
export const envSchema = z.object({
  SERVICE_ROLE: z.enum(SERVICE_ROLES).default('all'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65_535).default(8080),
  HTTP_TRUST_PROXY: trustProxy(),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((v) => /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(
      /^(\{[A-Za-z0-9:_-]{1,62}\}|[A-Za-z0-9:_-]{1,64})$/,
      'letters, digits, ":", "_" or "-" only, optionally all inside one {hash tag} for Redis Cluster',
    )
    .default('dt'),
  IDEMPOTENCY_TTL_SEC: int(60, 30 * 24 * 3600).default(24 * 3600),
  IDEMPOTENCY_LOCK_SEC: int(10, 24 * 3600).default(3600),
  SSE_HEARTBEAT_SEC: int(1, 300).default(15),
  STORAGE_DRIVER: z.enum(['local', 'gcs', 's3']).default('local'),
  STORAGE_BUCKET: z.string().min(1).optional(),
  STORAGE_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9._-]+\/)*$/, 'path segments each ending in "/", e.g. tenant-a/')
    .default(''),
  STORAGE_ENDPOINT: z.url().optional(),
  STORAGE_REGION: z.string().min(1).default('us-east-1'),
  STORAGE_FORCE_PATH_STYLE: bool().default(false),
  STORAGE_PART_SIZE_MB: int(5, 512).default(8),
  STORAGE_SIGNED_URL_TTL_SEC: int(0, 7 * 24 * 3600).default(300),
  UPLOAD_MAX_BYTES: int(1, Number.MAX_SAFE_INTEGER).default(2 * 1024 ** 3),
  UPLOAD_MAX_BYTES_OCR: int(1, Number.MAX_SAFE_INTEGER).optional(),
  UPLOAD_MAX_BYTES_TRANSCRIPTION: int(1, Number.MAX_SAFE_INTEGER).optional(),
  UPLOAD_SESSION_TTL_SEC: int(1, 30 * 24 * 3600).default(24 * 3600),
  UPLOAD_SESSION_SWEEP_SEC: int(1, 24 * 3600).default(60),
  UPLOAD_SESSIONS_PER_USER: int(0, 100_000).default(20),
  OCR_LANGUAGES: z
    .string()
    .regex(/^[A-Za-z_]+(\+[A-Za-z_]+)*$/, 'tesseract languages joined by "+", e.g. hin+eng')
    .default('hin+eng'),
  OCR_DPI: int(72, 600).default(300),
  OCR_PAGE_TIMEOUT_SEC: int(5, 3600).default(180),
  OCR_TESSERACT_RUNTIME: z.enum(['auto', 'cli', 'wasm']).default('auto'),
  OCR_TESSDATA_DIR: z.string().min(1).optional(),
  OCR_POLICY: z.enum(OCR_POLICIES).default('auto'),
  OCR_ENGINE: z.enum(OCR_ENGINES).default('tesseract'),
  OCR_ENGINE_BY_SUBTYPE: engineBySubtype,
  OCR_PSM: z.enum(OCR_PSM_MODES).default('auto'),
  OCR_PAGES_IN_FLIGHT: int(0, 256).default(0),
  OCR_CLOUD_BATCH_PAGES: int(1, OCR_MAX_BATCH_PAGES).default(1),
  OCR_SEARCHABLE_PDF: bool().default(true),
  OCR_HOCR: bool().default(false),
  OCR_MAX_PAGES: int(1, 1_000_000).default(5000),
  OCR_MAX_IMAGE_PIXELS: int(1, Number.MAX_SAFE_INTEGER).default(200_000_000),
  OCR_TEST_FAULT_ENGINE: testFaultEngine,
  NODE_ENV: z.string().optional(),
  GEMINI_API_KEY: z.string().min(1).optional(),
  GEMINI_MODEL: z.string().min(1).default('gemini-2.5-flash'),
  GEMINI_BASE_URL: z.url().optional(),
  GEMINI_MAX_OUTPUT_TOKENS: int(256, 65_536).default(8192),
  GEMINI_TIMEOUT_SEC: int(5, 3600).default(180),
  GEMINI_TRANSCRIPTION_MODEL: z.string().min(1).optional(),
  GEMINI_VERTEX_PROJECT: z.string().min(1).optional(),
  GEMINI_VERTEX_LOCATION: z.string().min(1).default('us-central1'),
  GEMINI_VERTEX_CREDENTIALS_FILE: z.string().min(1).optional(),
  TRANSCRIPTION_MAX_DURATION_SEC: int(1, 24 * 3600).default(4 * 3600),
  TRANSCRIPTION_ENGINE: z.enum(SPEECH_ENGINES).default('pocketsphinx'),
  TRANSCRIPTION_CHUNK_SEC: int(5, 3600).default(60),
  TRANSCRIPTION_CHUNK_OVERLAP_SEC: z.coerce.number().min(0).max(10).default(1),
  TRANSCRIPTION_CHUNKS_IN_FLIGHT: int(1, 16).default(2),
  TRANSCRIPTION_ON_TRUNCATED: z.enum(['fail', 'warn']).default('fail'),
  TRANSCRIPTION_REPETITION_MAX_REPEATS: int(2, 100).default(4),
  OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_TRANSCRIPTION_MODEL: z.string().min(1).default('whisper-1'),
  SPEECH_REQUEST_TIMEOUT_SEC: int(5, 3600).default(300),
  WHISPER_IDLE_EXIT_SEC: int(1, 24 * 3600).default(60),
  WHISPER_MODEL: z.string().min(1).optional(),
  WHISPER_THREADS: int(1, 64).default(Math.max(1, Math.min(4, os.availableParallelism()))),
  WHISPER_USE_GPU: bool().default(false),
  WORKER_QUEUES: z
    .string()
    .default('ocr,transcription')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(QUEUE_CHOICES)).min(1)),
  WORKER_OCR_CONCURRENCY: int(1, 64).default(1),
  WORKER_TRANSCRIPTION_CONCURRENCY: int(1, 64).default(1),
  WORKER_GLOBAL_CONCURRENCY_OCR: int(0, 10_000).optional(),
  WORKER_GLOBAL_CONCURRENCY_TRANSCRIPTION: int(0, 10_000).optional(),
  JOB_EXTRA_WORK_MIN: int(0, 1_000_000).default(20),
  JOB_EXTRA_WORK_PER_UNIT: z.coerce.number().min(0).max(10).default(0.5),
  JOB_RETRIES_TRANSIENT: int(0, 50).default(5),
  JOB_RETRIES_RATE_LIMIT: int(0, 50).default(10),
  JOB_RETRIES_TIMEOUT: int(0, 50).default(3),
  JOB_RETRIES_INTERNAL: int(0, 50).default(1),
  JOB_RETRY_BASE_DELAY_MS: int(0, 3_600_000).default(5_000),
  JOB_RETRY_RATE_LIMIT_BASE_DELAY_MS: int(0, 3_600_000).default(30_000),
  JOB_RETRY_MAX_DELAY_MS: int(0, 24 * 3_600_000).default(600_000),
  WORKER_LOCK_DURATION_MS: int(1_000, 3_600_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: int(500, 3_600_000).default(30_000),
  WORKER_MAX_STALLED_COUNT: int(0, 100).default(3),
  RECONCILER_INTERVAL_MS: int(0, 24 * 3_600_000).default(60_000),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(30_000),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  WORKER_METRICS_PORT: int(0, 65_535).optional(),
  WORKER_HEARTBEAT_SEC: int(1, 3600).default(10),
  AUTH_OIDC_ISSUER: providerUrl().optional(),
  AUTH_OIDC_CLIENT_ID: z.string().min(1).optional(),
  AUTH_OIDC_JWKS_URL: providerUrl().optional(),
  /** Only for providers that want a secret when the page's code is exchanged (Google's web clients). */
  AUTH_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  AUTH_OIDC_SCOPES: z
    .string()
    .default('openid email profile')
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .refine((scopes) => scopes.includes('openid'), 'must include "openid"'),
  AUTH_OIDC_ALGORITHMS: z
    .string()
    .default('RS256,ES256')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(TOKEN_ALGORITHMS)).min(1)),
  AUTH_CLOCK_TOLERANCE_SEC: int(0, 300).default(30),
  AUTH_JWKS_COOLDOWN_SEC: int(0, 3600).default(30),
  AUTH_IDENTITY_CLAIM: z.enum(['sub', 'email']).default('sub'),
  AUTH_ALLOWED_EMAILS: lowerList(),
  AUTH_ALLOWED_DOMAINS: lowerList(),
  AUTH_ADMIN_EMAILS: lowerList(),
  AUTH_BLOCKED_EMAILS: lowerList(),
  AUTH_ALLOW_ALL_USERS: bool().default(false),
  AUTH_ALLOW_INSECURE_LOCAL: bool().default(false),
  CORS_ORIGINS: corsOrigins(),
  CORS_ALLOW_CREDENTIALS: bool().default(false),
  RATE_LIMIT_MAX: int(0, 1_000_000).default(600),
  RATE_LIMIT_ANONYMOUS_MAX: int(0, 1_000_000).default(60),
  RATE_LIMIT_PUBLIC_MAX: int(0, 1_000_000).default(1200),
  RATE_LIMIT_WINDOW_SEC: int(1, 24 * 3600).default(60),
  QUOTA_ACTIVE_JOBS: int(0, 1_000_000).default(500),
  QUOTA_AUDIO_MINUTES_PER_DAY: int(0, 100_000_000).default(0),
  QUOTA_JOBS_PER_DAY: int(0, 10_000_000).default(5000),
  QUOTA_PAGES_PER_DAY: int(0, 100_000_000).default(0),
  COST_PER_PAGE_GEMINI: z.coerce.number().min(0).max(1000).default(0),
  COST_PER_MINUTE_OPENAI: z.coerce.number().min(0).max(1000).default(0),
  COST_WARN_PER_JOB: z.coerce.number().min(0).max(1_000_000).default(0),
  COST_BLOCK_PER_JOB: z.coerce.number().min(0).max(1_000_000).default(0),
  WEBHOOK_MAX_ATTEMPTS: int(1, 50).default(10),
  WEBHOOK_BASE_DELAY_MS: int(10, 3_600_000).default(2000),
  WEBHOOK_MAX_DELAY_MS: int(10, 24 * 3_600_000).default(3_600_000),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool().default(false),
  WEBHOOK_CONCURRENCY: int(1, 256).default(8),
  OPENAI_COMPAT_WAIT_MS: int(0, 3_600_000).default(300_000),
  FLAGS_REFRESH_SEC: int(1, 3600).default(10),
  ...featureFlagEnvShape(),
});

/**
 * Rules that involve several variables; each broken one is a line of the ConfigError.
 * The service refuses to expose its single-user local mode beyond loopback unless told to.
 */
export function crossFieldProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.AUTH_OIDC_ISSUER && !env.AUTH_OIDC_CLIENT_ID) {
    problems.push(
      'AUTH_OIDC_CLIENT_ID (unset): required with AUTH_OIDC_ISSUER (tokens must name it as audience)',
    );
  }
  if (!env.AUTH_OIDC_ISSUER && env.AUTH_OIDC_JWKS_URL) {
    problems.push(
      'AUTH_OIDC_CLIENT_ID (unset): required with AUTH_OIDC_JWKS_URL (with only a client id, the issuer is Google)',
    );
  }
  if (
    env.AUTH_OIDC_ISSUER &&
    !env.AUTH_ALLOW_ALL_USERS &&
    env.AUTH_ALLOWED_EMAILS.length + env.AUTH_ALLOWED_DOMAINS.length + env.AUTH_ADMIN_EMAILS.length === 0
  ) {
    problems.push(
      'AUTH_ALLOWED_EMAILS (unset): name who may sign in (AUTH_ALLOWED_EMAILS, AUTH_ALLOWED_DOMAINS, AUTH_ADMIN_EMAILS) or set AUTH_ALLOW_ALL_USERS=true',
    );
  }
  if (!env.AUTH_OIDC_ISSUER && !isLoopbackHost(env.HOST) && !env.AUTH_ALLOW_INSECURE_LOCAL) {
    problems.push(
      `HOST (${JSON.stringify(env.HOST)}): not a loopback address, and no identity provider is configured (AUTH_OIDC_ISSUER): anyone reaching it would act as the local admin. Configure OIDC, bind to 127.0.0.1, or set AUTH_ALLOW_INSECURE_LOCAL=true`,
    );
  }
  if (env.TRANSCRIPTION_ENGINE === 'openai' && !env.OPENAI_API_KEY) {
    problems.push('TRANSCRIPTION_ENGINE ("openai"): needs OPENAI_API_KEY');
  }
  const geminiConfigured = Boolean(env.GEMINI_API_KEY || env.GEMINI_VERTEX_PROJECT);
  if (env.OCR_ENGINE === 'gemini' && !geminiConfigured) {
    problems.push('OCR_ENGINE ("gemini"): needs GEMINI_API_KEY or GEMINI_VERTEX_PROJECT');
  }
  const geminiSubtypes = Object.entries(env.OCR_ENGINE_BY_SUBTYPE)
    .filter(([, engine]) => engine === 'gemini')
    .map(([subtype]) => subtype);
  if (geminiSubtypes.length > 0 && !geminiConfigured) {
    problems.push(
      `OCR_ENGINE_BY_SUBTYPE (${geminiSubtypes.map((s) => `${s}=gemini`).join(',')}): needs GEMINI_API_KEY or GEMINI_VERTEX_PROJECT`,
    );
  }
  if (env.TRANSCRIPTION_ENGINE === 'gemini' && !geminiConfigured) {
    problems.push('TRANSCRIPTION_ENGINE ("gemini"): needs GEMINI_API_KEY or GEMINI_VERTEX_PROJECT');
  }
  if (env.TRANSCRIPTION_ENGINE === 'whisper' && !env.WHISPER_MODEL) {
    problems.push(
      'TRANSCRIPTION_ENGINE ("whisper"): needs WHISPER_MODEL (path to a ggml whisper model file)',
    );
  }
  if (env.STORAGE_DRIVER !== 'local' && !env.STORAGE_BUCKET) {
    problems.push(`STORAGE_BUCKET (unset): required with STORAGE_DRIVER=${env.STORAGE_DRIVER}`);
  }
  if (env.OCR_TEST_FAULT_ENGINE && env.NODE_ENV === 'production') {
    problems.push('OCR_TEST_FAULT_ENGINE (set): a test-only engine, refused with NODE_ENV=production');
  }
  if (env.CORS_ALLOW_CREDENTIALS && env.CORS_ORIGINS.includes('*')) {
    problems.push(
      'CORS_ORIGINS ("*"): a wildcard origin cannot be combined with CORS_ALLOW_CREDENTIALS=true',
    );
  }
  return problems;
}

export type Env = z.infer<typeof envSchema>;

/** Retries allowed per error class (after the first attempt) and the backoff delays. */
export interface RetryConfig {
  retries: { transient: number; rate_limit: number; timeout: number; internal: number };
  baseDelayMs: number;
  rateLimitBaseDelayMs: number;
  maxDelayMs: number;
}

/** Delivery of job events to callback URLs (docs/webhooks.md). */
export interface WebhookConfig {
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per attempt: connect, send and read the answer. */
  timeoutMs: number;
  /** Loopback, private and link-local targets are refused unless this is set (tests, closed networks). */
  allowPrivateTargets: boolean;
  concurrency: number;
}

/** A job's budget of extra engine calls: max(min, perUnit × its pages or chunks). */
export interface ExtraWorkConfig {
  min: number;
  perUnit: number;
}

/** Gemini access (an API key, or a Vertex AI project) with a model and request limits. */
export interface GeminiConfig {
  apiKey?: string;
  vertex?: { project: string; location: string; credentialsFile?: string };
  model: string;
  baseUrl?: string;
  maxOutputTokens: number;
  timeoutMs: number;
}

export interface Config {
  role: ServiceRole;
  /** trustProxy: which peers' X-Forwarded-For is believed (false: none, a hop count, or addresses/CIDRs). */
  http: { host: string; port: number; trustProxy: boolean | number | string[] };
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  redis: { url: string; keyPrefix: string };
  storage: StorageConfig;
  /** maxBytes for every upload; byType at most maxBytes, applied once the content is sniffed. */
  uploads: {
    maxBytes: number;
    byType: Record<JobType, number>;
    /** Resumable upload sessions: lifetime, how often expired ones are swept, open ones per user (0: no cap). */
    sessions: { ttlSec: number; sweepMs: number; maxOpenPerUser: number };
  };
  idempotency: { ttlSec: number; lockSec: number };
  events: { heartbeatMs: number };
  ocr: {
    languages: string;
    dpi: number;
    pageTimeoutSec: number;
    policy: Env['OCR_POLICY'];
    /** `auto`: the tesseract program when it is on PATH, else tesseract.js (WebAssembly). */
    tesseractRuntime: Env['OCR_TESSERACT_RUNTIME'];
    /** tesseract.js's traineddata folder (OCR_TESSDATA_DIR); absent: Debian's when it has any, else the npm package's. */
    tessdataDir?: string;
    engine: OcrEngineName;
    engineBySubtype: Partial<Record<string, OcrEngineName>>;
    psm: Env['OCR_PSM'];
    /** Pages OCRed at once per job (one tesseract process each). */
    pagesInFlight: number;
    /** Pages per request to a cloud engine (Gemini). */
    cloudBatchPages: number;
    searchablePdf: boolean;
    hocr: boolean;
    maxPages: number;
    maxImagePixels: number;
    /** TEST ONLY: replaces tesseract by the fault-injection engine (refused with NODE_ENV=production). */
    testFaultEngine?: { transient: number; permanent: number; pageMs: number };
  };
  /** Present only when an API key or a Vertex AI project is configured: the Gemini OCR engine is then available. */
  gemini: GeminiConfig | null;
  transcription: {
    maxDurationSec: number;
    engine: SpeechEngineName;
    chunkSec: number;
    chunkOverlapSec: number;
    chunksInFlight: number;
    onTruncated: 'fail' | 'warn';
    repetitionMaxRepeats: number;
    /** Present when an OpenAI-compatible endpoint is configured with a key. */
    openai: { baseUrl: string; apiKey: string; model: string; timeoutMs: number } | null;
    /** Present when Gemini is configured: its settings with the transcription model and timeout. */
    gemini: GeminiConfig | null;
    /** whisper.cpp settings; `modelPath` is absent when WHISPER_MODEL is unset. */
    whisper: { modelPath: string | undefined; threads: number; useGpu: boolean; idleExitMs: number };
  };
  worker: {
    queues: Array<(typeof QUEUE_CHOICES)[number]>;
    concurrency: { ocr: number; transcription: number };
    /**
     * Jobs of a queue running at once across all workers; 0 removes the cap, absent leaves the
     * queue's current setting alone (it lives in Redis and holds for every machine).
     */
    globalConcurrency: { ocr: number | undefined; transcription: number | undefined };
    /** Extra engine calls (page re-reads, chunk re-runs) a job may make: max(min, perUnit × units). */
    extraWork: ExtraWorkConfig;
    tmpDir: string;
    retry: RetryConfig;
    /** BullMQ lock and stalled-job detection: a killed worker's jobs are picked up again. */
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    /** How often the leader-elected reconciler runs; 0 turns it off. */
    reconcilerIntervalMs: number;
  };
  shutdownTimeoutMs: number;
  /** `/metrics`: a bearer token for Prometheus (administrators may always scrape); the worker's own port. */
  metrics: {
    token: string | null;
    /** Unset: a worker process serves no HTTP; 0: an ephemeral port (tests), logged at start. */
    workerPort: number | null;
    heartbeatMs: number;
  };
  auth: AuthConfig;
  cors: { origins: string[]; allowCredentials: boolean };
  /** Requests per window; 0 turns that limit off. */
  rateLimit: { max: number; anonymousMax: number; publicMax: number; windowMs: number };
  /** Per-user limits (submits; pages and audio minutes per UTC day, counted by the worker); 0 turns one off. */
  quota: { activeJobs: number; jobsPerDay: number; pagesPerDay: number; audioMinutesPerDay: number };
  /** Prices of the paid engines (per page, per minute) and per-job thresholds; 0 turns one off. */
  cost: CostConfig;
  webhooks: WebhookConfig;
  /** How long `POST /v1/audio/transcriptions` waits for its job before answering 202. */
  openaiCompat: { waitMs: number };
  /** Start values of the feature flags (runtime overrides live in Redis) and how often they are re-read. */
  featureFlags: { defaults: Record<FeatureFlagName, boolean>; refreshMs: number };
}

/** Where objects live: the local disk of this machine, or a bucket shared by every machine. */
export type StorageConfig =
  | { driver: 'local'; rootDir: string }
  | {
      driver: 'gcs' | 's3';
      /** Still made: scratch space lives under DATA_DIR. */
      rootDir: string;
      bucket: string;
      prefix: string;
      endpoint?: string;
      region: string;
      forcePathStyle: boolean;
      partSizeBytes: number;
      /** 0: downloads stream through the API instead of redirecting to a signed URL. */
      signedUrlTtlSec: number;
    };

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** When unset, found through the issuer's `/.well-known/openid-configuration`. */
  jwksUrl?: string;
  /** Sent with the code exchange of the page's sign-in, when the provider requires one. */
  clientSecret?: string;
  /** Scopes the page asks for at sign-in. */
  scopes: string[];
  algorithms: TokenAlgorithm[];
  clockToleranceSec: number;
  /** Least time between two JWKS fetches caused by unknown key ids. */
  jwksCooldownMs: number;
  identityClaim: 'sub' | 'email';
}

export interface CostConfig {
  perPage: Record<string, number>;
  perMinute: Record<string, number>;
  warnPerJob: number;
  blockPerJob: number;
}

export interface AuthConfig {
  /** Null: local single-user mode. */
  oidc: OidcConfig | null;
  allowedEmails: string[];
  allowedDomains: string[];
  adminEmails: string[];
  blockedEmails: string[];
  allowAllUsers: boolean;
  allowInsecureLocal: boolean;
}

export function configFromEnv(env: Env): Config {
  const dataDir = path.resolve(env.DATA_DIR);
  // Vertex AI (a project with a service account) wins over an API key when both are set.
  const geminiAccess = env.GEMINI_VERTEX_PROJECT
    ? {
        vertex: {
          project: env.GEMINI_VERTEX_PROJECT,
          location: env.GEMINI_VERTEX_LOCATION,
          ...(env.GEMINI_VERTEX_CREDENTIALS_FILE
            ? { credentialsFile: env.GEMINI_VERTEX_CREDENTIALS_FILE }
            : {}),
        },
      }
    : env.GEMINI_API_KEY
      ? { apiKey: env.GEMINI_API_KEY }
      : null;
  return {
    role: env.SERVICE_ROLE,
    http: { host: env.HOST, port: env.PORT, trustProxy: env.HTTP_TRUST_PROXY },
    dataDir,
    logLevel: env.LOG_LEVEL,
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX },
    storage:
      env.STORAGE_DRIVER === 'local'
        ? { driver: 'local', rootDir: path.join(dataDir, 'storage') }
        : {
            driver: env.STORAGE_DRIVER,
            rootDir: path.join(dataDir, 'storage'),
            bucket: env.STORAGE_BUCKET ?? '',
            prefix: env.STORAGE_PREFIX,
            ...(env.STORAGE_ENDPOINT ? { endpoint: env.STORAGE_ENDPOINT } : {}),
            region: env.STORAGE_REGION,
            forcePathStyle: env.STORAGE_FORCE_PATH_STYLE,
            partSizeBytes: env.STORAGE_PART_SIZE_MB * 1024 * 1024,
            signedUrlTtlSec: env.STORAGE_SIGNED_URL_TTL_SEC,
          },
    uploads: {
      maxBytes: env.UPLOAD_MAX_BYTES,
      byType: {
        OCR: Math.min(env.UPLOAD_MAX_BYTES, env.UPLOAD_MAX_BYTES_OCR ?? env.UPLOAD_MAX_BYTES),
        TRANSCRIPTION: Math.min(
          env.UPLOAD_MAX_BYTES,
          env.UPLOAD_MAX_BYTES_TRANSCRIPTION ?? env.UPLOAD_MAX_BYTES,
        ),
      },
      sessions: {
        ttlSec: env.UPLOAD_SESSION_TTL_SEC,
        sweepMs: env.UPLOAD_SESSION_SWEEP_SEC * 1000,
        maxOpenPerUser: env.UPLOAD_SESSIONS_PER_USER,
      },
    },
    idempotency: { ttlSec: env.IDEMPOTENCY_TTL_SEC, lockSec: env.IDEMPOTENCY_LOCK_SEC },
    events: { heartbeatMs: env.SSE_HEARTBEAT_SEC * 1000 },
    ocr: {
      languages: env.OCR_LANGUAGES,
      dpi: env.OCR_DPI,
      pageTimeoutSec: env.OCR_PAGE_TIMEOUT_SEC,
      policy: env.OCR_POLICY,
      tesseractRuntime: env.OCR_TESSERACT_RUNTIME,
      ...(env.OCR_TESSDATA_DIR ? { tessdataDir: env.OCR_TESSDATA_DIR } : {}),
      engine: env.OCR_ENGINE,
      engineBySubtype: env.OCR_ENGINE_BY_SUBTYPE,
      psm: env.OCR_PSM,
      pagesInFlight: env.OCR_PAGES_IN_FLIGHT === 0 ? os.availableParallelism() : env.OCR_PAGES_IN_FLIGHT,
      cloudBatchPages: env.OCR_CLOUD_BATCH_PAGES,
      searchablePdf: env.OCR_SEARCHABLE_PDF,
      hocr: env.OCR_HOCR,
      maxPages: env.OCR_MAX_PAGES,
      maxImagePixels: env.OCR_MAX_IMAGE_PIXELS,
      ...(env.OCR_TEST_FAULT_ENGINE ? { testFaultEngine: env.OCR_TEST_FAULT_ENGINE } : {}),
    },
    gemini: geminiAccess
      ? {
          ...geminiAccess,
          model: env.GEMINI_MODEL,
          ...(env.GEMINI_BASE_URL ? { baseUrl: env.GEMINI_BASE_URL } : {}),
          maxOutputTokens: env.GEMINI_MAX_OUTPUT_TOKENS,
          timeoutMs: env.GEMINI_TIMEOUT_SEC * 1000,
        }
      : null,
    transcription: {
      maxDurationSec: env.TRANSCRIPTION_MAX_DURATION_SEC,
      engine: env.TRANSCRIPTION_ENGINE,
      chunkSec: env.TRANSCRIPTION_CHUNK_SEC,
      chunkOverlapSec: env.TRANSCRIPTION_CHUNK_OVERLAP_SEC,
      chunksInFlight: env.TRANSCRIPTION_CHUNKS_IN_FLIGHT,
      onTruncated: env.TRANSCRIPTION_ON_TRUNCATED,
      repetitionMaxRepeats: env.TRANSCRIPTION_REPETITION_MAX_REPEATS,
      openai: env.OPENAI_API_KEY
        ? {
            baseUrl: env.OPENAI_BASE_URL,
            apiKey: env.OPENAI_API_KEY,
            model: env.OPENAI_TRANSCRIPTION_MODEL,
            timeoutMs: env.SPEECH_REQUEST_TIMEOUT_SEC * 1000,
          }
        : null,
      gemini: geminiAccess
        ? {
            ...geminiAccess,
            model: env.GEMINI_TRANSCRIPTION_MODEL ?? env.GEMINI_MODEL,
            ...(env.GEMINI_BASE_URL ? { baseUrl: env.GEMINI_BASE_URL } : {}),
            maxOutputTokens: env.GEMINI_MAX_OUTPUT_TOKENS,
            timeoutMs: env.SPEECH_REQUEST_TIMEOUT_SEC * 1000,
          }
        : null,
      whisper: {
        modelPath: env.WHISPER_MODEL,
        threads: env.WHISPER_THREADS,
        useGpu: env.WHISPER_USE_GPU,
        idleExitMs: env.WHISPER_IDLE_EXIT_SEC * 1000,
      },
    },
    worker: {
      queues: env.WORKER_QUEUES,
      concurrency: { ocr: env.WORKER_OCR_CONCURRENCY, transcription: env.WORKER_TRANSCRIPTION_CONCURRENCY },
      globalConcurrency: {
        ocr: env.WORKER_GLOBAL_CONCURRENCY_OCR,
        transcription: env.WORKER_GLOBAL_CONCURRENCY_TRANSCRIPTION,
      },
      extraWork: { min: env.JOB_EXTRA_WORK_MIN, perUnit: env.JOB_EXTRA_WORK_PER_UNIT },
      tmpDir: path.join(dataDir, 'tmp'),
      retry: {
        retries: {
          transient: env.JOB_RETRIES_TRANSIENT,
          rate_limit: env.JOB_RETRIES_RATE_LIMIT,
          timeout: env.JOB_RETRIES_TIMEOUT,
          internal: env.JOB_RETRIES_INTERNAL,
        },
        baseDelayMs: env.JOB_RETRY_BASE_DELAY_MS,
        rateLimitBaseDelayMs: env.JOB_RETRY_RATE_LIMIT_BASE_DELAY_MS,
        maxDelayMs: env.JOB_RETRY_MAX_DELAY_MS,
      },
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
      reconcilerIntervalMs: env.RECONCILER_INTERVAL_MS,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    metrics: {
      token: env.METRICS_TOKEN ?? null,
      workerPort: env.WORKER_METRICS_PORT ?? null,
      heartbeatMs: env.WORKER_HEARTBEAT_SEC * 1000,
    },
    auth: {
      oidc:
        env.AUTH_OIDC_ISSUER && env.AUTH_OIDC_CLIENT_ID
          ? {
              issuer: env.AUTH_OIDC_ISSUER,
              clientId: env.AUTH_OIDC_CLIENT_ID,
              ...(env.AUTH_OIDC_JWKS_URL ? { jwksUrl: env.AUTH_OIDC_JWKS_URL } : {}),
              ...(env.AUTH_OIDC_CLIENT_SECRET ? { clientSecret: env.AUTH_OIDC_CLIENT_SECRET } : {}),
              scopes: env.AUTH_OIDC_SCOPES,
              algorithms: env.AUTH_OIDC_ALGORITHMS,
              clockToleranceSec: env.AUTH_CLOCK_TOLERANCE_SEC,
              jwksCooldownMs: env.AUTH_JWKS_COOLDOWN_SEC * 1000,
              identityClaim: env.AUTH_IDENTITY_CLAIM,
            }
          : null,
      allowedEmails: env.AUTH_ALLOWED_EMAILS,
      allowedDomains: env.AUTH_ALLOWED_DOMAINS.map((d) => d.replace(/^@/, '')),
      adminEmails: env.AUTH_ADMIN_EMAILS,
      blockedEmails: env.AUTH_BLOCKED_EMAILS,
      allowAllUsers: env.AUTH_ALLOW_ALL_USERS,
      allowInsecureLocal: env.AUTH_ALLOW_INSECURE_LOCAL,
    },
    cors: { origins: env.CORS_ORIGINS, allowCredentials: env.CORS_ALLOW_CREDENTIALS },
    rateLimit: {
      max: env.RATE_LIMIT_MAX,
      anonymousMax: env.RATE_LIMIT_ANONYMOUS_MAX,
      publicMax: env.RATE_LIMIT_PUBLIC_MAX,
      windowMs: env.RATE_LIMIT_WINDOW_SEC * 1000,
    },
    quota: {
      activeJobs: env.QUOTA_ACTIVE_JOBS,
      jobsPerDay: env.QUOTA_JOBS_PER_DAY,
      pagesPerDay: env.QUOTA_PAGES_PER_DAY,
      audioMinutesPerDay: env.QUOTA_AUDIO_MINUTES_PER_DAY,
    },
    cost: {
      perPage: { gemini: env.COST_PER_PAGE_GEMINI },
      perMinute: { openai: env.COST_PER_MINUTE_OPENAI },
      warnPerJob: env.COST_WARN_PER_JOB,
      blockPerJob: env.COST_BLOCK_PER_JOB,
    },
    webhooks: {
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      baseDelayMs: env.WEBHOOK_BASE_DELAY_MS,
      maxDelayMs: env.WEBHOOK_MAX_DELAY_MS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      allowPrivateTargets: env.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      concurrency: env.WEBHOOK_CONCURRENCY,
    },
    openaiCompat: { waitMs: env.OPENAI_COMPAT_WAIT_MS },
    featureFlags: {
      defaults: Object.fromEntries(
        FEATURE_FLAG_NAMES.map((name) => [name, env[featureFlagEnvName(name) as keyof Env] as boolean]),
      ) as Record<FeatureFlagName, boolean>,
      refreshMs: env.FLAGS_REFRESH_SEC * 1000,
    },
  };
}
