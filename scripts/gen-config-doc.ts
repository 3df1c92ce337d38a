// Rewrites docs/config.md from the schema (npm run docs:config).
import { writeFileSync } from 'node:fs';
import { renderReference } from '../src/config/reference.js';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderReference());
console.log('docs/config.md written');
