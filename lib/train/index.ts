export * from './optimizers.js';
export * from './schedules.js';
export * from './trackers.js';
export * from './train.js';
