import assert from 'node:assert/strict';
import { test } from 'node:test';
import { denseNet, longestPathLayers } from '../lib/nets/dag.js';

test('layers are longest paths from the inputs (001 Def 2.1, 2.5); cycles and bad edges are rejected', () => {
  // v0, v1 inputs; v2 <- v0, v1; v3 <- v0, v2; v4 <- v1; v5 <- v3, v4; v6 <- v2, v5
  const edges: [number, number][] = [[0, 2], [1, 2], [0, 3], [2, 3], [1, 4], [3, 5], [4, 5], [2, 6], [5, 6]];
  assert.deepEqual(longestPathLayers(7, edges), [0, 0, 1, 2, 1, 3, 4]);
  assert.throws(() => longestPathLayers(3, [[0, 1], [1, 2], [2, 1]]), /cycle/);
  assert.throws(() => longestPathLayers(2, [[0, 5]]), /edge \[0, 5\] names a vertex outside 0\.\.1/);
});

test('dropped edges: fixed masks with about the requested density, in-degrees counted after dropping', () => {
  const net = denseNet({ d: 10, m: 64, depth: 2, activation: 'tanh', dropProbability: 0.5, maskSeed: 4 });
  const again = denseNet({ d: 10, m: 64, depth: 2, activation: 'tanh', dropProbability: 0.5, maskSeed: 4 });
  const masks = net.graph.masks as Float32Array[];
  assert.deepEqual(Array.from(masks[1]), Array.from(again.graph.masks[1] as Float32Array), 'same seed, same masks');
  const kept = masks.reduce((s, m) => s + m.reduce((a, b) => a + b, 0), 0) / masks.reduce((s, m) => s + m.length, 0);
  assert.ok(Math.abs(kept - 0.5) < 0.03, `kept fraction ${kept}`);
  const fanIn = 10 + 64;
  const row0 = Array.from(masks[1].subarray(0, fanIn)).reduce((a, b) => a + b, 0);
  assert.equal(net.graph.inDegrees[1][0], row0);
  assert.throws(() => denseNet({ d: 3, m: 4, depth: 2, activation: 'tanh', dropProbability: 1 }), /dropProbability=1 is invalid/);
});
