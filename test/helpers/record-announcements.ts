import type { BrowserContext, Page } from 'playwright-core';

// The page's polite live region (`data-testid="announcer"`) keeps only its latest lines; an init
// script records every line added to it, so a test can read what a screen reader was told, in order.
const RECORDER = `(() => {
  window.__announcements = [];
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (!(change.target instanceof Element) || change.target.dataset.testid !== 'announcer') continue;
      for (const node of change.addedNodes) window.__announcements.push(node.textContent ?? '');
    }
  }).observe(document, { subtree: true, childList: true });
})();`;

/** Records the announcer's lines in every page of `context` from its next load on. */
export async function recordAnnouncements(context: BrowserContext): Promise<void> {
  await context.addInitScript(RECORDER);
}

/** The lines the announcer has said since the page was loaded. */
export function announcements(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.__announcements');
}
