export * from './app-error.js';
export * from './contract-document.js';
export * from './error-catalog.js';
export * from './job.js';
export * from './job-kinds.js';
export * from './job-status.js';
export * from './ocr-options.js';
