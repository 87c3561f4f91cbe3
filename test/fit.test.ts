import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitWithFixedSlope, linearFit, loglogFit } from '../lib/stats/fit.js';
import { meanAndStd, normalQuantile, studentTCdf, studentTQuantile } from '../lib/stats/stats.js';
import { createRng } from '../lib/core/random.js';

const close = (a: number, b: number, rel: number, what: string) => assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('Student t distribution', () => {
  test('quantiles match tabulated values (scipy.stats.t.ppf)', () => {
    const table: [number, number, number][] = [
      [0.975, 1, 12.706204736174698],
      [0.975, 2, 4.302652729749464],
      [0.975, 3, 3.1824463052837078],
      [0.975, 5, 2.570581835636314],
      [0.975, 10, 2.228138851986274],
      [0.975, 30, 2.042272456301238],
      [0.995, 4, 4.604094871349992],
      [0.95, 1000, 1.6463788172854643],
      [0.9999, 3, 22.203742273205],
      [0.975, 0.5, 164.55767348048818],
      [0.975, 1.5, 6.016663104427929],
      [0.6, 3, 0.2766706623326898],
      [0.7, 12.5, 0.5380382029031937],
      [0.001, 2.5, -13.822193110865964],
      [1e-10, 4, -416.1751403296041],
      [0.975, 1e9, 1.959963986912325],
      [0.975, Infinity, 1.959963984540054],
    ];
    for (const [p, df, q] of table) close(studentTQuantile(p, df), q, 1e-9, `t_{${p}, ${df}}`);
    close(studentTQuantile(0.5000001, 5), 2.6343055223849135e-7, 1e-6 * 2.6e-7, 'centre');
    for (const [p, df] of [[0.9, 4], [0.3, 7.5], [0.999, 2]]) close(studentTCdf(studentTQuantile(p, df), df), p, 1e-12, 'cdf∘quantile');
    close(normalQuantile(0.975), 1.959963984540054, 1e-14, 'z');
    assert.throws(() => studentTQuantile(0.5, 0), /degrees of freedom = 0/);
    assert.throws(() => studentTQuantile(1.5, 3), /p = 1.5/);
  });
});

describe('log-log fits', () => {
  test('exact power laws are recovered exactly', () => {
    const x = [2, 4, 8, 16, 32, 64, 128];
    const y = x.map((v) => 3.5 * v ** -0.5);
    const f = loglogFit(x, y);
    close(f.slope, -0.5, 1e-12, 'slope');
    close(f.prefactor, 3.5, 1e-12, 'prefactor');
    assert.ok(f.slopeSE < 1e-12);
    assert.ok(f.slopeCI[0] <= -0.5 && f.slopeCI[1] >= -0.5);
    close(f.predict(1000), 3.5 / Math.sqrt(1000), 1e-12, 'predict');
    assert.equal(f.df, 5);
    close(f.r2, 1, 1e-12, 'r2');
    const g = fitWithFixedSlope(x, y, -0.5);
    close(g.prefactor, 3.5, 1e-12, 'fixed-slope prefactor');
  });

  test('OLS standard error and interval agree with hand computation', () => {
    // x = 1..5, y = [1, 3, 2, 5, 4]: slope 0.8, intercept 0.6, RSS = 3.6, s² = 1.2, Sxx = 10.
    const f = linearFit([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]);
    close(f.slope, 0.8, 1e-14, 'slope');
    close(f.intercept, 0.6, 1e-14, 'intercept');
    close(f.slopeSE, Math.sqrt(1.2 / 10), 1e-14, 'SE');
    close(f.slopeCI[1] - f.slope, 3.1824463052837078 * Math.sqrt(0.12), 1e-10, 'half-width');
    close(f.interceptSE, Math.sqrt(1.2 * (1 / 5 + 9 / 10)), 1e-14, 'intercept SE');
  });

  test('95% intervals cover the true slope about 95% of the time (n = 6)', () => {
    const rng = createRng('coverage');
    const x = [10, 20, 40, 80, 160, 320];
    let cover = 0;
    const trials = 4000;
    for (let k = 0; k < trials; k++) {
      const y = x.map((v) => 2 * v ** -0.5 * Math.exp(0.2 * rng.normal()));
      const f = loglogFit(x, y);
      if (f.slopeCI[0] <= -0.5 && -0.5 <= f.slopeCI[1]) cover++;
    }
    const rate = cover / trials;
    // binomial sd ≈ 0.0034; a normal-quantile interval would cover only ≈ 0.88 with 4 degrees of freedom
    assert.ok(Math.abs(rate - 0.95) < 0.012, `coverage ${rate}`);
  });

  test('fixed-slope constant is the least-squares constant on logs', () => {
    const x = [1, 4, 9];
    const y = [2, 1.2, 0.6];
    const g = fitWithFixedSlope(x, y, -0.5);
    const logC = (Math.log(2) + Math.log(1.2) + 0.5 * Math.log(4) + Math.log(0.6) + 0.5 * Math.log(9)) / 3;
    close(g.logPrefactor, logC, 1e-14, 'ln C');
    assert.ok(g.prefactorCI[0] < g.prefactor && g.prefactor < g.prefactorCI[1]);
  });

  test('bad input gives clear errors', () => {
    assert.throws(() => loglogFit([1, 2, 3], [1, 0, 2]), /y\[1\] = 0 is not a finite positive number; a log-log fit needs x > 0 and y > 0/);
    assert.throws(() => loglogFit([1, 2], [1, 2, 3]), /x has 2 values and y has 3/);
    assert.throws(() => loglogFit([1], [1]), /1 points; expected at least 2/);
    assert.throws(() => linearFit([2, 2, 2], [1, 2, 3]), /all x values are equal/);
    assert.throws(() => loglogFit([1, 2, 3], [1, 2, 3], { level: 95 }), /level = 95; expected a confidence level in \(0, 1\)/);
    assert.throws(() => fitWithFixedSlope([1, 2], [1, 2], NaN), /slope = NaN/);
    const two = loglogFit([1, 2], [1, 2]);
    assert.ok(Number.isNaN(two.slopeSE));
  });

  test('meanAndStd uses the sample standard deviation', () => {
    const s = meanAndStd([97, 97.5, 97.46]);
    close(s.mean, 97.32, 1e-12, 'mean');
    close(s.std, Math.sqrt(((97 - 97.32) ** 2 + (97.5 - 97.32) ** 2 + (97.46 - 97.32) ** 2) / 2), 1e-12, 'std');
  });
});
