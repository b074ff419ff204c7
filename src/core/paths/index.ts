export * from './capabilities.ts';
export * from './model.ts';
export * from './sets.ts';
export * from './levels.ts';
export { selfServicePaths, governedPaths, passkeyWays, CODE_WAYS } from './build.ts';
export { findingsFor } from './findings.ts';
export { analyseAccount, effectiveAcr, adviceFor, weakeningPath } from './analyse.ts';
