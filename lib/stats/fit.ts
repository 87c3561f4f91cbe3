import { studentTQuantile } from './stats.js';

export interface LinearFit {
  slope: number;
  intercept: number;
  slopeSE: number;
  interceptSE: number;
  /** Two-sided confidence interval for the slope at `level`: slope ± t_{(1+level)/2, n−2}·SE. */
  slopeCI: [number, number];
  interceptCI: [number, number];
  level: number;
  /** Student t quantile used for the intervals. */
  tQuantile: number;
  n: number;
  /** Degrees of freedom n − 2. */
  df: number;
  /** Residual standard deviation √(RSS/(n − 2)). */
  residualSD: number;
  r2: number;
}

export interface PowerLawFit extends LinearFit {
  /** C in y = C·x^slope (= e^intercept; the intercept is on natural logs). */
  prefactor: number;
  /** C·x^slope. */
  predict: (x: number) => number;
}

export interface FitOptions {
  /** Confidence level of the intervals; default 0.95. */
  level?: number;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`fit: level = ${level}; expected a confidence level in (0, 1), e.g. 0.95`);
}

function checkXY(fn: string, x: ArrayLike<number>, y: ArrayLike<number>, min: number): void {
  if (x.length !== y.length) throw new Error(`${fn}: x has ${x.length} values and y has ${y.length}; expected equal lengths`);
  if (x.length < min) throw new Error(`${fn}: ${x.length} points; expected at least ${min}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${fn}: x[${i}] = ${x[i]}; expected a finite number`);
    if (!Number.isFinite(y[i])) throw new Error(`${fn}: y[${i}] = ${y[i]}; expected a finite number`);
  }
}

/** Ordinary least squares y = a + b·x with standard errors and t-based intervals. */
export function linearFit(x: ArrayLike<number>, y: ArrayLike<number>, options: FitOptions = {}): LinearFit {
  const level = options.level ?? 0.95;
  checkLevel(level);
  checkXY('linearFit', x, y, 2);
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) ** 2;
  }
  if (!(sxx > 0)) throw new Error('linearFit: all x values are equal; the slope is undetermined');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (y[i] - intercept - slope * x[i]) ** 2;
  const df = n - 2;
  const s2 = df > 0 ? rss / df : NaN;
  const slopeSE = Math.sqrt(s2 / sxx);
  const interceptSE = Math.sqrt(s2 * (1 / n + (mx * mx) / sxx));
  const tq = df > 0 ? studentTQuantile((1 + level) / 2, df) : NaN;
  return {
    slope,
    intercept,
    slopeSE,
    interceptSE,
    slopeCI: [slope - tq * slopeSE, slope + tq * slopeSE],
    interceptCI: [intercept - tq * interceptSE, intercept + tq * interceptSE],
    level,
    tQuantile: tq,
    n,
    df,
    residualSD: Math.sqrt(s2),
    r2: syy > 0 ? 1 - rss / syy : 1,
  };
}

function logs(fn: string, v: ArrayLike<number>, name: string): Float64Array {
  return Float64Array.from({ length: v.length }, (_, i) => {
    if (!(v[i] > 0) || !Number.isFinite(v[i])) throw new Error(`${fn}: ${name}[${i}] = ${v[i]} is not a finite positive number; a log-log fit needs x > 0 and y > 0`);
    return Math.log(v[i]);
  });
}

/**
 * Power law y ≈ C·x^b by OLS on (ln x, ln y): slope b with its standard error and a Student-t
 * confidence interval (n − 2 degrees of freedom). With n = 2 the errors and intervals are NaN.
 *
 * @param x positive x values (e.g. widths)
 * @param y positive y values, as many as `x`
 * @param options `level`: the confidence level of the interval (default 0.95)
 * @example
 * const m = [100, 1000, 10000];
 * const fit = loglogFit(m, m.map((v) => 3 / Math.sqrt(v)));   // fit.slope = -0.5
 */
export function loglogFit(x: ArrayLike<number>, y: ArrayLike<number>, options: FitOptions = {}): PowerLawFit {
  checkXY('loglogFit', x, y, 2);
  const fit = linearFit(logs('loglogFit', x, 'x'), logs('loglogFit', y, 'y'), options);
  const prefactor = Math.exp(fit.intercept);
  return { ...fit, prefactor, predict: (v) => prefactor * Math.pow(v, fit.slope) };
}

export interface FixedSlopeFit {
  slope: number;
  /** Least-squares C on logs: ln C = mean(ln y − slope·ln x). */
  prefactor: number;
  logPrefactor: number;
  logPrefactorSE: number;
  /** Interval for C at `level` (t-based on logs, n − 1 degrees of freedom). */
  prefactorCI: [number, number];
  level: number;
  n: number;
  residualSD: number;
  predict: (x: number) => number;
}

/**
 * The constant of a reference line with a fixed slope on log-log axes, e.g. the dashed Θ(1/√m) line
 * (slope −½) of 002 Fig 2: least squares in log space.
 */
export function fitWithFixedSlope(x: ArrayLike<number>, y: ArrayLike<number>, slope: number, options: FitOptions = {}): FixedSlopeFit {
  const level = options.level ?? 0.95;
  checkLevel(level);
  if (!Number.isFinite(slope)) throw new Error(`fitWithFixedSlope: slope = ${slope}; expected a finite number`);
  checkXY('fitWithFixedSlope', x, y, 1);
  const lx = logs('fitWithFixedSlope', x, 'x');
  const ly = logs('fitWithFixedSlope', y, 'y');
  const n = lx.length;
  const r = Float64Array.from(lx, (v, i) => ly[i] - slope * v);
  const logC = r.reduce((a, v) => a + v, 0) / n;
  const df = n - 1;
  const s = df > 0 ? Math.sqrt(r.reduce((a, v) => a + (v - logC) ** 2, 0) / df) : NaN;
  const se = s / Math.sqrt(n);
  const tq = df > 0 ? studentTQuantile((1 + level) / 2, df) : NaN;
  const prefactor = Math.exp(logC);
  return {
    slope,
    prefactor,
    logPrefactor: logC,
    logPrefactorSE: se,
    prefactorCI: [Math.exp(logC - tq * se), Math.exp(logC + tq * se)],
    level,
    n,
    residualSD: s,
    predict: (v) => prefactor * Math.pow(v, slope),
  };
}
