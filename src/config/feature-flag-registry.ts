/**
 * Every feature flag, in one typed registry: a risky or transitional path is switched here, by
 * env (`FLAG_<NAME>`) at start and by an administrator at runtime (`PUT /v1/admin/flags/:name`).
 */
export interface FeatureFlagDefinition {
  default: boolean;
  description: string;
  /** Who decides about it (and is asked before it is removed). */
  owner: string;
  /** Shown to the web page through `GET /v1/config`. */
  public: boolean;
}

export const FEATURE_FLAGS = {
  legacy_api: {
    default: false,
    description:
      'The earlier product’s routes (POST /upload, GET /status/:id, GET /jobs, POST /jobs/:id/cancel|retry, GET /contract/job-status) as adapters over /v1, for scripts still migrating',
    owner: 'api',
    public: false,
  },
  ocr_psm_retry: {
    default: true,
    description: 'OCR: a weak page is read again in tesseract psm 6 and the better reading kept',
    owner: 'ocr',
    public: false,
  },
  transcription_repetition_rerun: {
    default: true,
    description: 'Transcription: a chunk whose text repeats itself is run again in strict mode',
    owner: 'transcription',
    public: false,
  },
  webhooks: {
    default: true,
    description: 'Finished jobs queue webhook deliveries (off: none queued; queued ones still go)',
    owner: 'webhooks',
    public: true,
  },
} as const satisfies Record<string, FeatureFlagDefinition>;

export type FeatureFlagName = keyof typeof FEATURE_FLAGS;
export const FEATURE_FLAG_NAMES = Object.keys(FEATURE_FLAGS) as FeatureFlagName[];

export function isFeatureFlagName(name: string): name is FeatureFlagName {
  return Object.hasOwn(FEATURE_FLAGS, name);
}

/** `legacy_api` → `FLAG_LEGACY_API`. */
export function featureFlagEnvName(name: FeatureFlagName): string {
  return `FLAG_${name.toUpperCase()}`;
}
