export * from './agop.js';
export * from './critical.js';
export * from './derivatives.js';
export * from './hessian.js';
export * from './losses.js';
export * from './neurons.js';
export * from './ntk.js';
