/**
 * Compiles the browser apps' modules (console, account page, the shared ones) into the disk cache
 * of src/browser-app/modules.ts, so that no test's Gatehouse start waits for the TypeScript
 * compiler (scripts/test runs this first; unchanged sources cost one read each).
 */
import { fileURLToPath } from 'node:url';
import { processBrowserModules } from '../src/browser-app/modules.ts';

const dirs = ['console', 'account', 'browser-app'].map((app) => fileURLToPath(new URL(`../src/${app}/web/`, import.meta.url)));
await processBrowserModules.prepare(dirs);
console.log(`browser modules: ${processBrowserModules.compiled} compiled`);
