import { z } from 'zod';

/** The local service's address when neither `--server` nor DT_SERVER names one. */
export const DEFAULT_CLIENT_SERVER = 'http://127.0.0.1:8080';

/** What the `doc-transcribe` client commands read from the environment (flags win over these). */
export const clientEnvSchema = z.object({
  DT_SERVER: z.url({ protocol: /^https?$/ }).optional(),
  DT_API_KEY: z.string().min(1).optional(),
});

export interface ClientConfig {
  /** Base URL of the service, without a trailing slash. */
  server: string;
  /** Sent as `Authorization: Bearer …`; none talks to a local single-user service. */
  apiKey: string | null;
}

export class ClientConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid client configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClientConfigError';
  }
}

/** Flags first, then the environment, then the local default; every problem listed at once. */
export function loadClientConfig(
  env: NodeJS.ProcessEnv,
  flags: { server?: string | undefined; apiKey?: string | undefined },
): ClientConfig {
  const raw = {
    DT_SERVER: flags.server || env.DT_SERVER || undefined,
    DT_API_KEY: flags.apiKey || env.DT_API_KEY || undefined,
  };
  const parsed = clientEnvSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ClientConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const flag = name === 'DT_SERVER' ? '--server' : '--api-key';
        return `${flag} / ${name}: ${issue.message}`;
      }),
    );
  }
  return {
    server: (parsed.data.DT_SERVER ?? DEFAULT_CLIENT_SERVER).replace(/\/+$/, ''),
    apiKey: parsed.data.DT_API_KEY ?? null,
  };
}
