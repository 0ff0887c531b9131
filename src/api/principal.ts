import type { FastifyRequest } from 'fastify';

/** Who is calling. Until an identity provider is configured, everyone is the one local user. */
export interface Principal {
  userId: string;
  mode: 'local';
}

export const LOCAL_PRINCIPAL: Principal = { userId: 'local', mode: 'local' };

export function principalOf(_request: FastifyRequest): Principal {
  return LOCAL_PRINCIPAL;
}
