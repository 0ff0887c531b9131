import type { FastifyInstance } from 'fastify';
import { buildContractDocument } from '../../contract/index.js';

export function registerContractRoutes(app: FastifyInstance): void {
  const document = buildContractDocument();
  app.get('/v1/contract', async () => document);
}
