/**
 * `@ckpt/core`, runtime-neutral: bytes in, objects out. No `fs`, no Node-only modules.
 */
export { CkptError, isCkptError } from './errors.js';
export * from './source/index.js';
export * from './images/index.js';
export * from './model/index.js';
