export * from './claims.js';
export * from './display.js';
export * from './figure.js';
export * from './notebook.js';
export * from './plot.js';
export * from './svg.js';
