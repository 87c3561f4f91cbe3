export * from './p000-multilinearity.js';
export * from './p001-dag-linearity.js';
export * from './p002-hessian-scaling.js';
export * from './p002-kernel-change.js';
export * from './p004-neuron-cosines.js';
export * from './p003-catapults.js';
