export * as tf from '@tensorflow/tfjs-core';
export * from './backend.js';
export * from './profile.js';
