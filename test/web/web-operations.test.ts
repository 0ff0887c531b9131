import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeCorruptPdf, makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';

// The Operations view, end to end: a real service (API, Redis, worker, engines) runs one job that
// completes and one that fails in the worker; the page must show those real numbers and replay the failure.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOTS = path.join(ROOT, 'docs/screenshots');
const JOB_TIMEOUT = 60_000;

let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

async function readJob(jobId: string): Promise<Job> {
  return (await (await fetch(`${svc.url}/v1/jobs/${jobId}`)).json()) as Job;
}

async function jobStatus(jobId: string): Promise<string> {
  return (await readJob(jobId)).status;
}

async function submitAndWait(name: string, bytes: Uint8Array, status: string): Promise<string> {
  const response = await submitFile(svc.url, { name, bytes });
  expect(response.status).toBe(201);
  const jobId = ((await response.json()) as Job).job_id;
  await expect.poll(() => jobStatus(jobId), { timeout: JOB_TIMEOUT, interval: 250 }).toBe(status);
  return jobId;
}

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-ops-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  svc = await startTestService('web-operations');
  context = await launchChromium(path.join(dir, 'profile'));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the operations view', () => {
  let failedJobId = '';

  it('shows the real queue numbers, failures by code, workers and dependencies to the local admin', async () => {
    await submitAndWait('good.pdf', await readFile((await makeTwoPagePdf(dir)).path), 'COMPLETED');
    failedJobId = await submitAndWait('broken.pdf', await readFile(await makeCorruptPdf(dir)), 'FAILED');
    const failureCode = (await readJob(failedJobId)).error_code;
    expect(failureCode).toBeTruthy();

    await page.goto(svc.url);
    await page.locator('[data-testid="tab-operations"]').click();
    const view = page.locator('[data-testid="operations"]');
    await view.waitFor();
    expect(await view.locator('h2').textContent()).toBe('Operations');

    const ocrRow = view.locator('[data-testid="ops-queues"] tr[data-queue]', { hasText: 'ocr' }).first();
    await expect
      .poll(async () => ocrRow.locator('[data-col="completed-hour"]').textContent(), { timeout: 20_000 })
      .toBe('1');
    expect(await ocrRow.locator('[data-col="failed-hour"]').textContent()).toBe('1');
    expect(await ocrRow.locator('[data-col="failure-rate"]').textContent()).toBe('50%');
    expect(await ocrRow.locator('[data-col="waiting"]').textContent()).toBe('0');

    const codeRow = view.locator(`[data-testid="ops-failures"] tr[data-code="${failureCode}"]`);
    expect(await codeRow.locator('[data-col="count"]').textContent()).toContain('1');

    expect(await view.locator('[data-testid="ops-workers"] tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(await view.locator('[data-testid="ops-workers"] tbody').textContent()).toContain(os.hostname());
    expect(
      await view
        .locator('[data-testid="ops-dependencies"] tr[data-dependency="redis"]')
        .getAttribute('data-ok'),
    ).toBe('true');

    const letter = view.locator(`[data-testid="ops-dead-letters"] tr[data-job-id="${failedJobId}"]`);
    expect(await letter.textContent()).toContain('broken.pdf');
    expect(await letter.textContent()).toContain(failureCode);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'operations.png'), fullPage: true });
  }, 150_000);

  it("lists every user's jobs with their owner, and filters them by status", async () => {
    const view = page.locator('[data-testid="operations"]');
    const table = view.locator('[data-testid="ops-all-jobs"]');
    const broken = table.locator(`tr[data-job="${failedJobId}"]`);
    await broken.waitFor();
    expect(await broken.locator('[data-col="owner"]').textContent()).toBe('local');
    expect(await broken.locator('[data-col="status"]').textContent()).toBe('Failed');
    expect(await table.locator('tbody tr', { hasText: 'good.pdf' }).getAttribute('data-status')).toBe(
      'COMPLETED',
    );
    expect(await view.getByTestId('ops-jobs-total').textContent()).toBe('Jobs: 2');

    await view.getByTestId('ops-jobs-status').selectOption('FAILED');
    await table.locator('tbody tr', { hasText: 'good.pdf' }).waitFor({ state: 'detached' });
    expect(await table.locator('tbody tr').count()).toBe(1);
    expect(await view.getByTestId('ops-jobs-total').textContent()).toBe('Jobs: 1');
    await view.getByTestId('ops-jobs-status').selectOption('CANCELLED');
    await view.getByTestId('ops-no-jobs').waitFor();
    await view.getByTestId('ops-jobs-status').selectOption('');
    await table.locator('tbody tr', { hasText: 'good.pdf' }).waitFor();
  }, 60_000);

  it('replays a dead letter from the page: it leaves the list and the job runs again', async () => {
    const view = page.locator('[data-testid="operations"]');
    const before = await readJob(failedJobId);
    await view.getByRole('button', { name: 'Replay broken.pdf' }).click();
    await view.locator(`tr[data-job-id="${failedJobId}"]`).waitFor({ state: 'detached' });
    // The same job went back to the queue; a corrupt file fails again, as a fresh dead letter.
    await expect
      .poll(async () => (await readJob(failedJobId)).updated_at, { timeout: JOB_TIMEOUT, interval: 250 })
      .not.toBe(before.updated_at);
    expect(consoleErrors).toEqual([]);
  }, 90_000);

  it('says so in a live region when a refresh fails, and clears it once the server answers again', async () => {
    const view = page.locator('[data-testid="operations"]');
    const status = view.locator('[data-testid="ops-refresh-status"]');
    expect(await status.getAttribute('aria-live')).toBe('polite');
    await page.route('**/v1/admin/overview', (route) => route.abort());
    await status.getByRole('alert').waitFor({ timeout: 25_000 });
    expect(await status.textContent()).toContain('Refresh failed');
    // The last figures read stay on the page.
    expect(await view.locator('[data-testid="ops-queues"] tr[data-queue]').count()).toBeGreaterThan(0);
    await page.unroute('**/v1/admin/overview');
    await status.getByRole('alert').waitFor({ state: 'detached', timeout: 25_000 });
  }, 60_000);

  it('shows the view in Hindi with the same figures', async () => {
    await page.locator('.lang-switch').click();
    const view = page.locator('[data-testid="operations"]');
    expect(await view.locator('h2').textContent()).toBe('संचालन');
    expect(await view.locator('[data-testid="ops-queues"] th').first().textContent()).toBe('कतार');
    await page.locator('.lang-switch').click();
  });

  it('fits a 375 px wide screen: wide tables scroll inside the view, the page does not', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const sideways = await page.evaluate<boolean>(
      'document.documentElement.scrollWidth > document.documentElement.clientWidth',
    );
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(sideways).toBe(false);
  });
});

describe('the operations view for a signed-in user who is not an admin', () => {
  let issuer: OidcLoopbackIssuer;
  let userSvc: TestService;
  let userContext: BrowserContext;

  beforeAll(async () => {
    issuer = await new OidcLoopbackIssuer().start();
    userSvc = await startTestService(
      'web-operations-user',
      issuer.env({ AUTH_ALLOWED_DOMAINS: 'example.org' }),
    );
    userContext = await launchChromium(path.join(dir, 'profile-user'));
  }, 120_000);

  afterAll(async () => {
    await userContext?.close();
    await userSvc?.close();
    await issuer?.close();
  });

  it('has no Operations tab (and the admin API refuses a call without an admin token)', async () => {
    const userPage = userContext.pages()[0] ?? (await userContext.newPage());
    await userPage.goto(userSvc.url);
    await userPage.getByTestId('sign-in').click();
    await userPage.getByTestId('signed-in-user').waitFor({ timeout: 30_000 });
    // The page asked who the user is and got the roles: wait for the history, then look for the tab.
    await userPage.locator('#now-heading').waitFor();
    expect(await userPage.getByTestId('tab-operations').count()).toBe(0);
    expect(await userPage.getByTestId('operations').count()).toBe(0);
    expect((await fetch(`${userSvc.url}/v1/admin/overview`)).status).toBe(401);
  }, 60_000);
});
