/**
 * views layer: pure functions from model objects to text (tree, table, JSON). No fs, no process.
 */
export { renderTree, inspectTree, normaliseInspectOptions, type TreeNode, type InspectOptions, type InspectInput } from './tree.js';
export { inspectJson, inspectObject, showJson, listJson, problemsJson } from './inspect-json.js';
export { showTable, listTable, type ShowRow, type ListEntry } from './table.js';
export { byteSize, duration, rfc3339, rfc822, safe, hostPort } from './format.js';
export { diffTree, diffJson, diffObject, diffSummary, type DiffViewOptions } from './diff.js';
