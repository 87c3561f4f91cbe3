export * from './catapult.js';
export * from './fit.js';
export * from './stats.js';
