import type { BrowserContext, Page } from 'playwright-core';

// The page's polite live region (`data-testid="announcer"`) holds only its latest words; an init
// script records every text it shows, so a test can read what a screen reader was told, in order.
const RECORDER = `(() => {
  window.__announcements = [];
  new MutationObserver(() => {
    const text = document.querySelector('[data-testid="announcer"]')?.textContent ?? '';
    const seen = window.__announcements;
    if (text && seen[seen.length - 1] !== text) seen.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

/** Records the announcer's texts in every page of `context` from its next load on. */
export async function recordAnnouncements(context: BrowserContext): Promise<void> {
  await context.addInitScript(RECORDER);
}

/** What the announcer has said since the page was loaded. */
export function announcements(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.__announcements');
}
