import { appendFileSync, readFileSync } from 'node:fs';
import { backendInfo } from '../core/backend.js';
import { profile } from '../core/profile.js';

export interface Expectation {
  min?: number;
  max?: number;
}

export interface ClaimResult {
  /** Stable id, e.g. '002-fig1-linear-slope'. */
  id: string;
  paper: string;
  figure: string;
  /** The paper's claim in one sentence. */
  claim: string;
  /** What was measured, e.g. 'fitted log-log slope of ΔK vs m'. */
  quantity: string;
  measured: number;
  expected: Expectation;
  pass: boolean;
  profile: string;
  backend: string;
  dataset?: string;
  seeds?: number;
  note?: string;
  /** Name of the figure (as given to show()) that illustrates the claim. */
  plot?: string;
}

export function describeExpectation(e: Expectation): string {
  if (e.min !== undefined && e.max !== undefined) return `in [${e.min}, ${e.max}]`;
  if (e.min !== undefined) return `>= ${e.min}`;
  if (e.max !== undefined) return `<= ${e.max}`;
  return 'any';
}

function format(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(3) : v.toExponential(2);
}

/**
 * Checks a paper's claim on numbers just computed, prints `PASS`/`FAIL` with measured and expected values, and
 * appends the result to $TANGENT_CLAIMS_FILE (JSON lines) for the reproduction report.
 */
export function checkClaim(c: Omit<ClaimResult, 'pass' | 'profile' | 'backend'>): void {
  recordClaim(c);
}

/** checkClaim, returning the result instead of leaving it out of a notebook cell's output. */
export function recordClaim(c: Omit<ClaimResult, 'pass' | 'profile' | 'backend'>): ClaimResult {
  const { min, max } = c.expected;
  const pass = Number.isFinite(c.measured) && (min === undefined || c.measured >= min) && (max === undefined || c.measured <= max);
  let backend = 'unknown';
  try {
    backend = backendInfo().name;
  } catch {
    // backend not initialised: the claim is computed from stored numbers only
  }
  const result: ClaimResult = { ...c, pass, profile: profile(), backend };
  console.log(`${pass ? 'PASS' : 'FAIL'}  ${c.paper} ${c.figure}: ${c.claim}\n      ${c.quantity} = ${format(c.measured)} (expected ${describeExpectation(c.expected)})${c.note ? `\n      ${c.note}` : ''}`);
  const file = process.env.TANGENT_CLAIMS_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(result)}\n`);
  return result;
}

/** Claims recorded in a JSON-lines file (the runner's $TANGENT_CLAIMS_FILE). */
export function readClaims(file: string): ClaimResult[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ClaimResult);
}
