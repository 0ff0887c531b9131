import { type Config, configFromEnv, crossFieldProblems, envSchema } from './config-schema.js';

/** The issuer assumed when `AUTH_OIDC_CLIENT_ID` is set without `AUTH_OIDC_ISSUER`. */
export const DEFAULT_OIDC_ISSUER = 'https://accounts.google.com';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses and validates the environment once at start. Empty strings count as unset so that
 * `PORT=` in a .env file falls back to the default instead of failing obscurely.
 * Throws a ConfigError listing every bad variable, not just the first.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<string, string>> = {},
): Config {
  const known = Object.keys(envSchema.shape);
  const raw: Record<string, string> = {};
  for (const name of known) {
    const value = overrides[name] ?? env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  // Google is the identity provider when only a client id is given (its id tokens' exact `iss`).
  if (raw.AUTH_OIDC_CLIENT_ID && !raw.AUTH_OIDC_ISSUER) raw.AUTH_OIDC_ISSUER = DEFAULT_OIDC_ISSUER;
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      const shown =
        raw[name] === undefined ? 'unset' : JSON.stringify(isSecretName(name) ? '<redacted>' : raw[name]);
      return `${name} (${shown}): ${issue.message}`;
    });
    // Rules across variables are judged too (with the bad ones at their defaults), so one run
    // of the service lists every problem instead of revealing them one fix at a time.
    const withoutBad = { ...raw };
    for (const issue of parsed.error.issues) delete withoutBad[String(issue.path[0])];
    const rest = envSchema.safeParse(withoutBad);
    if (rest.success) problems.push(...crossFieldProblems(rest.data));
    throw new ConfigError(problems);
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return configFromEnv(parsed.data);
}

/** Variables whose values never appear in an error or a log: URLs may carry passwords. */
function isSecretName(name: string): boolean {
  return /URL|KEY|TOKEN|SECRET|PASSWORD/.test(name);
}

export const CONFIG_VARIABLES = Object.keys(envSchema.shape);
