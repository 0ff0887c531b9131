import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../contract/index.js';
import type { Logger } from '../observability/logger.js';

/** `web/dist`, the same two levels up from `src/api` (tests, tsx) and from `dist/api` (compiled). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths the page never answers for: an unknown address there stays a problem+json 404. */
const API_PREFIXES = ['/v1', '/healthz', '/readyz', '/openapi.json', '/docs', '/metrics'];

function isApiPath(urlPath: string): boolean {
  return API_PREFIXES.some((prefix) => urlPath === prefix || urlPath.startsWith(`${prefix}/`));
}

async function isFile(filePath: string): Promise<boolean> {
  try {
    return (await stat(filePath)).isFile();
  } catch {
    return false;
  }
}

/**
 * Serves the built page (Vite output) at `/`: its files by path, and index.html for any other
 * page GET that is not an API address (single-page fallback). Skipped when the page is not built.
 */
/** The page's catch-all route: files of the built page, and the page itself for navigations. */
export const WEB_APP_ROUTE = '/*';

export async function serveWebApp(
  app: FastifyInstance,
  options: { root: string; logger: Logger },
): Promise<void> {
  const root = path.resolve(options.root);
  if (!(await isFile(path.join(root, 'index.html')))) {
    options.logger.warn({ event: 'web.not_built', root }, 'the web page is not built (npm run build:web)');
    return;
  }
  await app.register(fastifyStatic, { root, serve: false });
  app.get(WEB_APP_ROUTE, async (request, reply) => {
    const urlPath = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (isApiPath(urlPath)) throw new AppError('ROUTE_NOT_FOUND');
    const filePath = path.resolve(root, `.${urlPath}`);
    if (filePath.startsWith(`${root}${path.sep}`) && (await isFile(filePath))) {
      // Vite names assets by content hash: they never change under the same name.
      const immutable = urlPath.startsWith('/assets/');
      return reply.sendFile(path.relative(root, filePath), {
        maxAge: immutable ? 31_536_000_000 : 0,
        immutable,
      });
    }
    // Only a browser navigating (Accept: text/html) gets the page; scripts keep their 404 problem.
    const wantsPage = (request.headers.accept ?? '').includes('text/html');
    if (path.extname(urlPath) !== '' || !wantsPage) throw new AppError('ROUTE_NOT_FOUND');
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { maxAge: 0 });
  });
}
