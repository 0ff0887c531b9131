import swagger, { type StaticDocumentSpec } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument } from '../../contract/index.js';

/**
 * `/openapi.json` and an interactive reference at `/docs` (Swagger UI, served from npm, offline).
 * Returns the document it serves, so the start-up check reads the same one instead of building
 * (and leaving to the garbage collector) a second copy.
 */
export async function registerOpenApiRoutes(
  app: FastifyInstance,
): Promise<ReturnType<typeof buildOpenApiDocument>> {
  const document = buildOpenApiDocument();
  await app.register(swagger, {
    mode: 'static',
    // Our document is OpenAPI 3.1; the plugin's types only know 2.0 and 3.0.
    specification: { document: document as unknown as StaticDocumentSpec['document'] },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => document);
  return document;
}
