import type { FastifyInstance } from 'fastify';
import { AppError, putWebhookBodySchema } from '../../contract/index.js';
import { checkWebhookTarget } from '../../webhooks/check-webhook-target.js';
import type { WebhookStore } from '../../webhooks/webhook-store.js';
import { principalOf } from '../principal.js';
import { parseOrThrow } from './route-params.js';

export interface WebhookRoutesDeps {
  webhooks: WebhookStore;
  webhookTargets: { allowPrivate: boolean };
}

/** The caller's own webhook: one URL for all their jobs, and the secret that signs every delivery. */
export function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRoutesDeps): void {
  app.put('/v1/webhook', async (request) => {
    const body = parseOrThrow(putWebhookBodySchema, request.body ?? {});
    const url =
      body.url === null ? null : (await checkWebhookTarget(body.url, deps.webhookTargets.allowPrivate)).href;
    const saved = await deps.webhooks.save(principalOf(request).userId, url, body.rotate_secret);
    request.log.info(
      { event: 'webhook.saved', has_url: url !== null, secret_rotated: saved.secret !== null },
      'webhook saved',
    );
    return saved;
  });

  app.get('/v1/webhook', async (request) => {
    const webhook = await deps.webhooks.get(principalOf(request).userId);
    if (!webhook) throw new AppError('WEBHOOK_NOT_FOUND');
    return webhook;
  });

  app.delete('/v1/webhook', async (request, reply) => {
    if (!(await deps.webhooks.remove(principalOf(request).userId))) throw new AppError('WEBHOOK_NOT_FOUND');
    return reply.code(204).send();
  });

  app.get('/v1/webhook/deliveries', async (request) => {
    return { items: await deps.webhooks.deliveries(principalOf(request).userId) };
  });
}
