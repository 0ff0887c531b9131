import { z } from 'zod';

export const featureFlagSchema = z.object({
  name: z.string(),
  enabled: z.boolean(),
  source: z
    .enum(['override', 'env'])
    .describe('override: set through the admin API; env: FLAG_<NAME> or the default'),
  default: z.boolean().describe('The value without an override'),
  description: z.string(),
  owner: z.string(),
});
export const featureFlagListSchema = z.object({ flags: z.array(featureFlagSchema) });
export type FeatureFlagList = z.infer<typeof featureFlagListSchema>;

export const putFeatureFlagBodySchema = z.object({ enabled: z.boolean() });

/** `GET /v1/config`: what the page may know about this deployment. */
export const clientSettingsSchema = z.object({
  flags: z.record(z.string(), z.boolean()).describe('Flags the page may see, by name'),
  max_upload_bytes: z.number().int().positive(),
  auth_mode: z.enum(['oidc', 'local-single-user']),
});
export type ClientSettings = z.infer<typeof clientSettingsSchema>;
