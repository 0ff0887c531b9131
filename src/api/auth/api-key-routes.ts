import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, createApiKeySchema } from '../../contract/index.js';
import { principalOf } from '../principal.js';
import { parseOrThrow } from '../routes/route-params.js';
import type { ApiKeyStore } from './api-key-store.js';

const apiKeyParamsSchema = z.object({ id: z.string() });

/** Each user manages their own API keys; someone else's key id answers 404 like a missing one. */
export function registerApiKeyRoutes(app: FastifyInstance, deps: { apiKeys: ApiKeyStore }): void {
  app.post('/v1/api-keys', async (request, reply) => {
    const { name } = parseOrThrow(createApiKeySchema, request.body ?? {});
    const principal = principalOf(request);
    const { key, view } = await deps.apiKeys.create(
      { userId: principal.userId, email: principal.email },
      name,
    );
    request.log.info({ event: 'api_key.created', api_key_id: view.id }, 'API key created');
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .header('location', `/v1/api-keys/${view.id}`)
      .send({ ...view, key });
  });

  app.get('/v1/api-keys', async (request) => ({
    api_keys: await deps.apiKeys.list(principalOf(request).userId),
  }));

  app.delete('/v1/api-keys/:id', async (request, reply) => {
    const { id } = parseOrThrow(apiKeyParamsSchema, request.params);
    if (!(await deps.apiKeys.revoke(principalOf(request).userId, id)))
      throw new AppError('API_KEY_NOT_FOUND');
    request.log.info({ event: 'api_key.revoked', api_key_id: id }, 'API key revoked');
    return reply.code(204).send();
  });
}
