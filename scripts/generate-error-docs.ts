import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from '../src/contract/render-error-docs.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
