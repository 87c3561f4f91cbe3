import '@tensorflow/tfjs';
import { initBackend } from '../dist/lib/core/backend.js';
import { catapultRun } from '../dist/lib/experiments/p003-catapults.js';
await initBackend();
const t = Date.now();
const r = catapultRun({ net: { kind: 'fcn', depth: 5, width: 1024 }, seed: 0, lossBelow: 1e-3, batchSize: 32, steps: 6, s: 1, kernelEvery: 1, batchCritical: true, data: { kind: 'regression', task: 'rank2', n: 5000 }, lr: { multiple: 6 / 3.6 }, progress: (l) => console.log(l) });
console.log('total', (Date.now() - t) / 1000, 's', r.steps);
