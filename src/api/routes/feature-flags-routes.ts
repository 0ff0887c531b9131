import type { FastifyInstance } from 'fastify';
import { FEATURE_FLAGS, FLAG_NAMES, type FlagName, isFlagName } from '../../config/feature-flags.js';
import { AppError, putFeatureFlagBodySchema } from '../../contract/index.js';
import type { FeatureFlagReader } from '../../jobs/feature-flag-reader.js';
import { principalOf, requireAdmin } from '../principal.js';
import { parseOrThrow } from './route-params.js';

export interface FeatureFlagsRoutesDeps {
  flags: FeatureFlagReader;
  maxUploadBytes: number;
}

function flagOf(params: unknown): FlagName {
  const { name } = params as { name: string };
  if (!isFlagName(name)) throw new AppError('ROUTE_NOT_FOUND', `There is no feature flag named "${name}".`);
  return name;
}

/** Feature flags: administrators read and override them; every signed-in user reads `/v1/config`. */
export function registerFeatureFlagsRoutes(
  app: FastifyInstance,
  deps: FeatureFlagsRoutesDeps & { authMode: 'oidc' | 'local-single-user' },
): void {
  app.get('/v1/admin/flags', async (request) => {
    requireAdmin(request);
    return { flags: deps.flags.list() };
  });

  app.put('/v1/admin/flags/:name', async (request) => {
    const principal = requireAdmin(request);
    const name = flagOf(request.params);
    const { enabled } = parseOrThrow(putFeatureFlagBodySchema, request.body);
    await deps.flags.set(name, enabled);
    request.log.info(
      { event: 'feature_flag.set', flag: name, enabled, by: principal.userId },
      `feature flag ${name} set ${enabled ? 'on' : 'off'}`,
    );
    return deps.flags.list().find((flag) => flag.name === name);
  });

  app.delete('/v1/admin/flags/:name', async (request) => {
    const principal = requireAdmin(request);
    const name = flagOf(request.params);
    await deps.flags.set(name, null);
    request.log.info({ event: 'feature_flag.cleared', flag: name, by: principal.userId }, 'override deleted');
    return deps.flags.list().find((flag) => flag.name === name);
  });

  app.get('/v1/config', async (request) => {
    principalOf(request);
    return {
      flags: Object.fromEntries(
        FLAG_NAMES.filter((name) => FEATURE_FLAGS[name].visibleToPage).map((name) => [
          name,
          deps.flags.isEnabled(name),
        ]),
      ),
      max_upload_bytes: deps.maxUploadBytes,
      auth_mode: deps.authMode,
    };
  });
}
