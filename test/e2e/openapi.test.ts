import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobListSchema } from '../../src/contract/index.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService('openapi', { SERVICE_ROLE: 'api' });
});
afterAll(async () => {
  await svc?.close();
});

describe('OpenAPI', () => {
  it('serves a document that a real OpenAPI 3.1 validator accepts', async () => {
    const response = await fetch(`${svc.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/events', '/v1/queues']),
    );
  });

  it('describes what the API really answers', async () => {
    const document = (await (await fetch(`${svc.url}/openapi.json`)).json()) as {
      components: { schemas: { JobList: { required: string[] } } };
    };
    const list = await (await fetch(`${svc.url}/v1/jobs`)).json();
    expect(jobListSchema.safeParse(list).success).toBe(true);
    expect(document.components.schemas.JobList.required).toEqual(
      expect.arrayContaining(Object.keys(list as object)),
    );
  });

  it('serves an interactive reference at /docs without any external resource', async () => {
    const page = await fetch(`${svc.url}/docs/static/index.html`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/src="https?:\/\//);
    expect((await fetch(`${svc.url}/docs`, { redirect: 'manual' })).status).toBeLessThan(400);
  });
});
