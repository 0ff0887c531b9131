import { z } from 'zod';

/**
 * `GET /v1/auth/config`: how the page signs people in. Public, so the page can ask before anyone
 * has a token. `local`: no identity provider, everyone is the one local user.
 */
export const authConfigSchema = z.object({
  mode: z.enum(['local', 'oidc']),
  issuer: z.string().nullable(),
  client_id: z.string().nullable(),
  authorization_endpoint: z
    .string()
    .nullable()
    .describe("The issuer's authorization endpoint, from its discovery document"),
  scopes: z.array(z.string()),
});

/**
 * `POST /v1/auth/token`: the page's authorization code (with its PKCE verifier), or a refresh
 * token, traded through the API for tokens, so the client secret (when the provider needs one)
 * never reaches the browser and the provider's token endpoint needs no CORS.
 */
export const tokenRequestSchema = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string().min(1).max(4096),
    code_verifier: z
      .string()
      .regex(/^[A-Za-z0-9._~-]{43,128}$/)
      .describe('RFC 7636 code verifier'),
    redirect_uri: z.url(),
  }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1).max(8192) }),
]);

/** The caller as the API sees them (`GET /v1/me`). */
export const whoAmISchema = z.object({
  user_id: z.string(),
  email: z.string().nullable(),
  roles: z.array(z.enum(['user', 'admin'])),
  mode: z.enum(['local', 'oidc', 'api_key']),
});

/** Tokens for the page to keep in memory; `id_token` is what it sends as `Authorization: Bearer`. */
export const tokenSetSchema = z.object({
  id_token: z.string(),
  expires_at: z.string().describe('When `id_token` expires (ISO-8601 UTC)'),
  refresh_token: z.string().nullable().describe('Present when the provider issued one'),
  user: whoAmISchema,
});

export type AuthConfigView = z.infer<typeof authConfigSchema>;
export type TokenRequest = z.infer<typeof tokenRequestSchema>;
export type TokenSet = z.infer<typeof tokenSetSchema>;
export type WhoAmI = z.infer<typeof whoAmISchema>;
