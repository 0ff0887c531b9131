import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isFeatureFlagName } from '../../config/feature-flag-registry.js';
import type { OfferedEngines } from '../../config/index.js';
import { AppError } from '../../contract/index.js';
import type { FeatureFlags } from '../../jobs/feature-flags.js';
import { principalOf, requireAdmin } from '../principal.js';
import { parseOrThrow } from './route-params.js';

export interface FeatureFlagRoutesDeps {
  flags: FeatureFlags;
  engines: OfferedEngines;
}

const flagParamsSchema = z.object({ name: z.string().max(100) });
const setFlagBodySchema = z.object({ enabled: z.boolean() }).strict();

function flagNameOf(params: unknown) {
  const { name } = parseOrThrow(flagParamsSchema, params);
  if (!isFeatureFlagName(name))
    throw new AppError('FEATURE_FLAG_UNKNOWN', `There is no feature flag ${name}.`);
  return name;
}

/** Administrators switch flags at runtime; everyone signed in reads the page's public ones and the offered engines. */
export function registerFeatureFlagRoutes(app: FastifyInstance, deps: FeatureFlagRoutesDeps): void {
  app.get('/v1/admin/flags', async (request) => {
    requireAdmin(request);
    return { flags: deps.flags.list() };
  });

  app.put('/v1/admin/flags/:name', async (request) => {
    const admin = requireAdmin(request);
    const name = flagNameOf(request.params);
    const { enabled } = parseOrThrow(setFlagBodySchema, request.body ?? {});
    await deps.flags.set(name, enabled);
    request.log.warn(
      { event: 'flag.changed', flag: name, enabled, by: admin.email ?? admin.userId },
      `feature flag ${name} set ${enabled ? 'on' : 'off'}`,
    );
    return deps.flags.list().find((flag) => flag.name === name);
  });

  app.delete('/v1/admin/flags/:name', async (request) => {
    const admin = requireAdmin(request);
    const name = flagNameOf(request.params);
    await deps.flags.clear(name);
    request.log.warn(
      { event: 'flag.cleared', flag: name, by: admin.email ?? admin.userId },
      `feature flag ${name} back to its start value`,
    );
    return deps.flags.list().find((flag) => flag.name === name);
  });

  app.get('/v1/config', async (request) => {
    principalOf(request);
    const { ocr, speech, defaults } = deps.engines;
    return {
      flags: deps.flags.publicValues(),
      engines: {
        ocr,
        transcription: speech,
        default_ocr: defaults.ocr,
        default_transcription: defaults.speech,
      },
    };
  });
}
