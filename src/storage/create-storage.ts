import type { Config } from '../config/index.js';
import { GcsStorage } from './gcs-storage.js';
import { LocalDiskStorage } from './local-disk-storage.js';
import type { ObjectStorage } from './object-storage.js';
import { S3Storage } from './s3-storage.js';

export function createStorage(config: Config['storage']): ObjectStorage {
  switch (config.driver) {
    case 'local':
      return new LocalDiskStorage(config.rootDir);
    case 's3':
      return new S3Storage({
        bucket: config.bucket,
        prefix: config.prefix,
        region: config.region,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        forcePathStyle: config.forcePathStyle,
        partSizeBytes: config.partSizeBytes,
        signedUrlTtlSec: config.signedUrlTtlSec,
      });
    case 'gcs':
      return new GcsStorage({
        bucket: config.bucket,
        prefix: config.prefix,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        chunkSizeBytes: config.partSizeBytes,
        signedUrlTtlSec: config.signedUrlTtlSec,
      });
  }
}
