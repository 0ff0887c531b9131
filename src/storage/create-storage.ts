import type { Config } from '../config/index.js';
import { LocalDiskStorage } from './local-disk-storage.js';
import type { ObjectStorage } from './object-storage.js';

/**
 * The storage STORAGE_DRIVER names. The cloud SDKs are imported only when their driver is chosen:
 * each costs 25–30 MB of memory in every process that loads it.
 */
export async function createStorage(config: Config['storage']): Promise<ObjectStorage> {
  switch (config.driver) {
    case 'local':
      return new LocalDiskStorage(config.rootDir);
    case 's3': {
      const { S3Storage } = await import('./s3-storage.js');
      return new S3Storage({
        bucket: config.bucket,
        prefix: config.prefix,
        region: config.region,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        forcePathStyle: config.forcePathStyle,
        partSizeBytes: config.partSizeBytes,
        signedUrlTtlSec: config.signedUrlTtlSec,
      });
    }
    case 'gcs': {
      const { GcsStorage } = await import('./gcs-storage.js');
      return new GcsStorage({
        bucket: config.bucket,
        prefix: config.prefix,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        chunkSizeBytes: config.partSizeBytes,
        signedUrlTtlSec: config.signedUrlTtlSec,
      });
    }
  }
}
