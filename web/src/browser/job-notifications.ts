const ASKED_KEY = 'dt.notifications.asked';

/** Asks once, and only from a user gesture, whether finished jobs may show a notification. */
export function askNotificationPermissionOnce(): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  try {
    if (localStorage.getItem(ASKED_KEY)) return;
    localStorage.setItem(ASKED_KEY, '1');
  } catch {
    return;
  }
  void Notification.requestPermission().catch(() => undefined);
}

/** Shows a notification only while the page is hidden: a visible page already shows the change. */
export function notifyIfHidden(title: string, body: string, tag: string): void {
  if (document.visibilityState !== 'hidden') return;
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  try {
    new Notification(title, { body, tag });
  } catch {
    // Some browsers allow notifications only from a service worker; the page still shows the result.
  }
}
