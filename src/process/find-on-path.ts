import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Whether an executable of this name is on PATH (checked once at start, so synchronous is fine). */
export function isOnPath(command: string, searchPath: string = process.env.PATH ?? ''): boolean {
  return searchPath
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(path.join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}
