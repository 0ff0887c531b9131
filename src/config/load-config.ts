import { type Config, configFromEnv, crossFieldProblems, envSchema } from './config-schema.js';

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
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        const shown =
          raw[name] === undefined ? 'unset' : JSON.stringify(name.includes('URL') ? '<redacted>' : raw[name]);
        return `${name} (${shown}): ${issue.message}`;
      }),
    );
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return configFromEnv(parsed.data);
}

export const CONFIG_VARIABLES = Object.keys(envSchema.shape);
