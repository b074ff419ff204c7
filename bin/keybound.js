#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npm start`, `npx keybound` and the tests all
// run the same code with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
