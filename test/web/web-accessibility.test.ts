import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchChromium } from '../helpers/launch-chromium.js';
import { makeCorruptPdf, makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

// An automated accessibility audit (axe-core) of the page's main screens, in English and Hindi,
// on a desktop and at a phone's 390×844: no violation of impact serious or critical.
const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const JOB_TIMEOUT = 90_000;

let svc: TestService;
let dir: string;
let context: BrowserContext;
let page: Page;

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** The serious and critical axe violations on the page as it is now, one line each. */
async function audit(): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"')))
    await page.addScriptTag({ path: AXE_PATH });
  const violations = (await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((result) => result.violations)',
  )) as Violation[];
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

async function waitForCard(name: string, status: string): Promise<void> {
  await page
    .locator(`.now article.job-card[data-status="${status}"]`, { hasText: name })
    .first()
    .waitFor({ timeout: JOB_TIMEOUT });
}

beforeAll(async () => {
  await ensureWebBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-web-a11y-'));
  svc = await startTestService('web-a11y');
  // The page's CSP allows only its own scripts; the audit injects axe, so the test bypasses it.
  context = await launchChromium(path.join(dir, 'profile'), { bypassCSP: true });
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(svc.url);
  await page.getByTestId('drop-zone').waitFor();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the page passes an axe audit (no serious or critical violations)', () => {
  it('in English: empty, files chosen, jobs finished and failed, the text viewer', async () => {
    expect(await audit()).toEqual([]);

    const pdf = path.join(dir, 'book.pdf');
    await copyFile((await makeTwoPagePdf(dir)).path, pdf);
    const broken = path.join(dir, 'broken.pdf');
    await copyFile(await makeCorruptPdf(dir), broken);
    await page.getByTestId('file-input').setInputFiles([pdf, broken]);
    await expect.poll(() => page.getByTestId('upload-item').count()).toBe(2);
    expect(await audit()).toEqual([]);

    await page.getByRole('button', { name: 'Upload 2' }).click();
    await waitForCard('book.pdf', 'COMPLETED');
    await waitForCard('broken.pdf', 'FAILED');
    expect(await audit()).toEqual([]);

    await page
      .locator('.now article.job-card', { hasText: 'book.pdf' })
      .getByRole('button', { name: 'Read text' })
      .click();
    const viewer = page.getByRole('dialog', { name: 'Text of book.pdf' });
    await viewer.getByTestId('result-text').waitFor();
    expect(await audit()).toEqual([]);
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
  }, 150_000);

  it('in Hindi', async () => {
    await page.getByRole('button', { name: 'Show the page in Hindi' }).click();
    await page.getByRole('heading', { name: 'इतिहास' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('hi');
    expect(await audit()).toEqual([]);
    await page.getByRole('button', { name: 'पृष्ठ अंग्रेज़ी में दिखाएँ' }).click();
    await page.getByRole('heading', { name: 'History' }).waitFor();
  }, 60_000);

  it('on a phone, 390×844, in English and Hindi', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await audit()).toEqual([]);
    await page.getByRole('button', { name: 'Show the page in Hindi' }).click();
    await page.getByRole('heading', { name: 'इतिहास' }).waitFor();
    expect(await audit()).toEqual([]);
    await page.getByRole('button', { name: 'पृष्ठ अंग्रेज़ी में दिखाएँ' }).click();
  }, 60_000);
});
