import type { Config } from '../config/index.js';
import { LocalDiskStorage } from './local-disk-storage.js';
import type { ObjectStorage } from './object-storage.js';

export function createStorage(config: Config['storage']): ObjectStorage {
  switch (config.driver) {
    case 'local':
      return new LocalDiskStorage(config.rootDir);
  }
}
