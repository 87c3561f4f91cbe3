export * from './bottleneck.js';
export * from './conv.js';
export * from './dag.js';
export * from './fcn.js';
export * from './network.js';
export * from './npz.js';
export * from './resnet.js';
export * from './taylor-models.js';
