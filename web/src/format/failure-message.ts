import type { ApiFailure } from '../api/api-failure.js';
import { ERROR_CATALOG, type ErrorCode, isErrorCode, type WebJob } from '../api/contract.js';
import type { Lang, MessageKey } from '../i18n/messages.js';
import { translate } from '../i18n/messages.js';

/** One concrete next step for each catalog code; exhaustive, so a new code needs its step here. */
const NEXT_ACTION: Readonly<Record<ErrorCode, MessageKey>> = {
  VALIDATION_FAILED: 'next.fixFields',
  FILE_MISSING: 'next.chooseFile',
  UPLOAD_EMPTY: 'next.chooseOtherFile',
  UPLOAD_TOO_LARGE: 'next.smallerFile',
  UNSUPPORTED_MEDIA_TYPE: 'next.chooseOtherFile',
  FILE_EXTENSION_MISMATCH: 'next.chooseOtherFile',
  FILE_POLYGLOT: 'next.chooseOtherFile',
  FILENAME_INVALID: 'next.chooseOtherFile',
  JOB_TYPE_MISMATCH: 'next.fixFields',
  ENGINE_NOT_OFFERED: 'next.fixFields',
  REQUEST_BODY_INVALID: 'next.reload',
  ROUTE_NOT_FOUND: 'next.reload',
  JOB_NOT_FOUND: 'next.reload',
  DEAD_LETTER_NOT_FOUND: 'next.reload',
  FEATURE_FLAG_UNKNOWN: 'next.reload',
  JOB_NOT_CANCELLABLE: 'next.reload',
  JOB_NOT_RETRYABLE: 'next.reload',
  JOB_STILL_RUNNING: 'next.tryAgainSoon',
  RESULT_NOT_READY: 'next.waitFinish',
  RESULT_FORMAT_UNAVAILABLE: 'next.otherFormat',
  INPUT_UNREADABLE: 'next.fixFile',
  PDF_ENCRYPTED: 'next.unprotectedPdf',
  PDF_NO_PAGES: 'next.fixFile',
  MEDIA_NO_AUDIO: 'next.fixFile',
  MEDIA_DECODE_FAILED: 'next.fixFile',
  MEDIA_TOO_LONG: 'next.shorterRecording',
  OCR_LANGUAGE_UNAVAILABLE: 'next.otherLanguage',
  OCR_ENGINE_FAILED: 'next.retry',
  TRANSCRIPTION_ENGINE_FAILED: 'next.retry',
  ENGINE_UNAVAILABLE: 'next.tellOperator',
  PROCESSING_TIMEOUT: 'next.shorterRecording',
  STORAGE_UNAVAILABLE: 'next.tryLater',
  QUEUE_UNAVAILABLE: 'next.tryLater',
  JOB_CANCELLED: 'next.retry',
  WORKER_LOST: 'next.retry',
  INTERNAL_ERROR: 'next.reportReference',
  IDEMPOTENCY_KEY_INVALID: 'next.addAgain',
  IDEMPOTENCY_KEY_IN_USE: 'next.tryAgainSoon',
  IDEMPOTENCY_KEY_MISMATCH: 'next.addAgain',
  CURSOR_INVALID: 'next.reload',
  UPLOAD_NOT_FOUND: 'next.addAgain',
  UPLOAD_OFFSET_MISMATCH: 'next.retryUpload',
  UPLOAD_LENGTH_EXCEEDED: 'next.addAgain',
  UPLOAD_INCOMPLETE: 'next.retryUpload',
  UPLOAD_BUSY: 'next.tryAgainSoon',
  QUOTA_UPLOAD_SESSIONS: 'next.finishUploads',
  DEPENDENCY_UNAVAILABLE: 'next.tryAgainSoon',
  ENGINE_RATE_LIMITED: 'next.tryLater',
  MEDIA_TRUNCATED: 'next.fixFile',
  ENGINE_NOT_CONFIGURED: 'next.tellOperator',
  WHISPER_MODEL_INVALID: 'next.tellOperator',
  ENGINE_UPSTREAM_ERROR: 'next.tryLater',
  ENGINE_REQUEST_REFUSED: 'next.fixFields',
  ENGINE_RESPONSE_INVALID: 'next.retry',
  ENGINE_RESPONSE_TRUNCATED: 'next.tellOperator',
  AUTH_REQUIRED: 'next.signIn',
  AUTH_TOKEN_INVALID: 'next.signIn',
  AUTH_TOKEN_EXPIRED: 'next.signIn',
  AUTH_TOKEN_NOT_YET_VALID: 'next.signIn',
  AUTH_TOKEN_ISSUER: 'next.signIn',
  AUTH_TOKEN_AUDIENCE: 'next.signIn',
  AUTH_TOKEN_SIGNATURE: 'next.signIn',
  AUTH_TOKEN_ALGORITHM: 'next.signIn',
  AUTH_API_KEY_INVALID: 'next.signIn',
  AUTH_EMAIL_UNVERIFIED: 'next.askAccess',
  AUTH_USER_NOT_ALLOWED: 'next.askAccess',
  AUTH_FORBIDDEN: 'next.askAccess',
  AUTH_PROVIDER_UNAVAILABLE: 'next.tryLater',
  AUTH_SIGN_IN_FAILED: 'next.signIn',
  AUTH_NOT_CONFIGURED: 'next.reload',
  WEBHOOK_URL_INVALID: 'next.fixFields',
  WEBHOOK_TARGET_FORBIDDEN: 'next.fixFields',
  WEBHOOK_TARGET_UNRESOLVED: 'next.fixFields',
  WEBHOOK_NOT_FOUND: 'next.reload',
  WEBHOOK_SECRET_MISSING: 'next.fixFields',
  EXTRA_WORK_BUDGET_EXHAUSTED: 'next.tellOperator',
  API_KEY_NOT_FOUND: 'next.reload',
  RATE_LIMITED: 'next.tryAgainSoon',
  INPUT_TOO_COMPLEX: 'next.smallerFile',
  COST_LIMIT_EXCEEDED: 'next.smallerFile',
  QUOTA_ACTIVE_JOBS: 'next.waitSomeFinish',
  QUOTA_DAILY_AUDIO_MINUTES: 'next.tryTomorrow',
  QUOTA_DAILY_JOBS: 'next.tryTomorrow',
  QUOTA_DAILY_PAGES: 'next.tryTomorrow',
};

export interface FailureText {
  /** The catalog's message in the reader's language. */
  message: string;
  /** What to do about it. */
  next: string;
  /** The server's own wording, when it says more than the catalog message. */
  detail: string | null;
  requestId: string | null;
}

function nextActionFor(code: string | undefined, status: number): MessageKey {
  if (code && isErrorCode(code)) return NEXT_ACTION[code];
  // A code from a newer server than this page: judged by its status alone.
  return status >= 500 ? 'next.tryLater' : 'next.reload';
}

/** What the page says about a failed request: message, next action, and a reference to quote. */
export function describeFailure(failure: ApiFailure, lang: Lang): FailureText {
  switch (failure.kind) {
    case 'network':
      return {
        message: translate(lang, 'error.network'),
        next: translate(lang, 'next.checkConnection'),
        detail: null,
        requestId: null,
      };
    case 'http':
      return {
        message: translate(lang, 'error.http', { status: failure.status }),
        next: translate(lang, failure.status >= 500 ? 'next.tryLater' : 'next.reload'),
        detail: null,
        requestId: null,
      };
    case 'problem': {
      const { problem } = failure;
      const code = problem.error_code;
      const catalog = code && isErrorCode(code) ? ERROR_CATALOG[code].message : null;
      const serverText = lang === 'hi' ? (problem.message_hi ?? problem.detail) : problem.detail;
      const message =
        catalog?.[lang] ??
        serverText ??
        problem.title ??
        translate(lang, 'error.http', { status: failure.status });
      const detail =
        problem.detail && problem.detail !== message && problem.detail !== catalog?.en
          ? problem.detail
          : null;
      return {
        message,
        next: translate(lang, nextActionFor(code, failure.status)),
        detail,
        requestId: problem.request_id ?? null,
      };
    }
  }
}

/** A failed or cancelled job's error, read like a refusal from the server. */
export function jobFailure(job: WebJob): ApiFailure | null {
  if (!job.error_code) return null;
  return {
    kind: 'problem',
    status: 0,
    problem: {
      status: 0,
      error_code: job.error_code,
      ...(job.error_message ? { detail: job.error_message } : {}),
      request_id: job.request_id,
    },
  };
}
