import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

function loggedEvents(): Set<string> {
  const events = new Set<string>();
  for (const file of sourceFiles(path.join(root, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bevent: '([a-z0-9_.-]+)'/g))
      events.add(match[1] as string);
  }
  return events;
}

function documentedEvents(): Set<string> {
  const text = readFileSync(path.join(root, 'docs/logging.md'), 'utf8');
  const table = text.slice(text.indexOf('## Events'));
  return new Set([...table.matchAll(/^\| `([a-z0-9_.-]+)` /gm)].map((match) => match[1] as string));
}

describe('docs/logging.md', () => {
  it('documents every event name the code logs', () => {
    const documented = documentedEvents();
    const missing = [...loggedEvents()].filter((event) => !documented.has(event)).sort();
    expect(missing, 'add a row to docs/logging.md for each').toEqual([]);
  });

  it('lists no event the code no longer logs', () => {
    const logged = loggedEvents();
    const stale = [...documentedEvents()].filter((event) => !logged.has(event)).sort();
    expect(stale, 'remove these rows from docs/logging.md').toEqual([]);
  });

  it('finds a sensible number of events (the grep still works)', () => {
    expect(loggedEvents().size).toBeGreaterThan(40);
  });
});
