import type { FastifyInstance } from 'fastify';
import type { AuthConfig } from '../../config/index.js';
import { requireAdmin } from '../principal.js';
import { parseOrThrow } from '../routes/route-params.js';
import { type AccessListStore, type AccessLists, accessListsSchema } from './access-list-store.js';
import { mergeLists } from './access-policy.js';

function listsOf(config: AuthConfig): AccessLists {
  return {
    allowed_emails: config.allowedEmails,
    allowed_domains: config.allowedDomains,
    admin_emails: config.adminEmails,
    blocked_emails: config.blockedEmails,
  };
}

/**
 * Administrators read and replace the access lists kept in Redis; the answer shows them beside
 * the configuration's (which only a restart changes) and the effective union.
 */
export function registerAccessRoutes(
  app: FastifyInstance,
  deps: { auth: AuthConfig; accessLists: AccessListStore },
): void {
  const view = (stored: AccessLists) => ({
    stored,
    config: listsOf(deps.auth),
    effective: listsOf(mergeLists(deps.auth, stored)),
    allow_all_users: deps.auth.allowAllUsers,
  });

  app.get('/v1/admin/access', async (request) => {
    requireAdmin(request);
    return view(await deps.accessLists.get());
  });

  app.put('/v1/admin/access', async (request) => {
    const principal = requireAdmin(request);
    const lists = parseOrThrow(accessListsSchema, request.body ?? {});
    await deps.accessLists.put(lists);
    request.log.info(
      {
        event: 'admin.access_updated',
        by_user_id: principal.userId,
        counts: Object.fromEntries(Object.entries(lists).map(([name, items]) => [name, items.length])),
      },
      'access lists replaced',
    );
    return view(lists);
  });
}
