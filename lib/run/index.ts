export * from './parallel.js';
export * from './results-table.js';
export * from './store.js';
export * from './sweep.js';
export * from './tasks.js';
