import { z } from 'zod';

/** `POST /v1/api-keys` body. */
export const createApiKeySchema = z.object({
  name: z.string().trim().min(1).max(100).describe('What the key is for, e.g. "nightly upload script"'),
});

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it'),
  created_at: z.string(),
  last_used_at: z.string().nullable().describe('Updated at most once a minute'),
});

/** Answer of `POST /v1/api-keys`: the only time the key itself is shown. */
export const createdApiKeySchema = apiKeySchema.extend({
  key: z.string().describe('The secret key (`dt_…`); shown once, store it now'),
});

export const apiKeyListSchema = z.object({ api_keys: z.array(apiKeySchema) });

export type ApiKey = z.infer<typeof apiKeySchema>;
