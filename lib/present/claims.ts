import { appendFileSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeWriteError } from '../core/write-errors.js';
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
 *
 * @param c the claim: `id`, `paper`, `figure`, `claim` (one sentence), `quantity` (what was measured), `measured`,
 *   `expected` (`{ min?, max? }`), optional `dataset`, `seeds`, `note` and `plot` (the figure's name given to `show`)
 * @example
 * checkClaim({ id: 'demo-slope', paper: '002', figure: 'Fig 1', claim: 'ΔK decays like 1/√m', quantity: 'log-log slope', measured: -0.48, expected: { min: -0.8, max: -0.3 } });
 */
export function checkClaim(c: Omit<ClaimResult, 'pass' | 'profile' | 'backend'>): void {
  recordClaim(c);
}

/** checkClaim, returning the result instead of leaving it out of a notebook cell's output. */
export function recordClaim(c: Omit<ClaimResult, 'pass' | 'profile' | 'backend'>): ClaimResult {
  if (c === null || typeof c !== 'object') throw new Error(`checkClaim: claim = ${String(c)}; expected { id, paper, figure, claim, quantity, measured, expected }`);
  if (typeof c.id !== 'string' || !c.id) throw new Error(`checkClaim: id = ${JSON.stringify(c.id)}; expected a non-empty string`);
  if (typeof c.measured !== 'number') throw new Error(`checkClaim ${c.id}: measured = ${JSON.stringify(c.measured)}; expected a number`);
  const e = c.expected as Expectation | undefined;
  const bound = (v: unknown) => v === undefined || (typeof v === 'number' && !Number.isNaN(v));
  if (!e || typeof e !== 'object' || !bound(e.min) || !bound(e.max) || (e.min !== undefined && e.max !== undefined && e.min > e.max)) {
    throw new Error(`checkClaim ${c.id}: expected = ${JSON.stringify(e)}; expected { min?, max? } with numbers, min ≤ max`);
  }
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
  if (file) appendWhole(file, `${JSON.stringify(result)}\n`, `the claim result ${c.id}`);
  return result;
}

/** Appends a line, or nothing: a failed append (full disk) is cut back so that no partial line stays. */
function appendWhole(file: string, text: string, what: string): void {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    // new file
  }
  try {
    appendFileSync(file, text);
  } catch (e) {
    try {
      truncateSync(file, size);
    } catch {
      // nothing was written
    }
    throw describeWriteError(e, `${what} (${file})`, dirname(file));
  }
}

/** A figure or panel of a paper that a notebook does not attempt (kept beside the claims, never counted as one). */
export interface NotAttempted {
  kind: 'not-attempted';
  id: string;
  paper: string;
  figure: string;
  /** What the panel shows in the paper, e.g. 'WRN 10-10 on CIFAR-10: SGD catapults'. */
  what: string;
  reason: string;
  profile: string;
}

export function isNotAttempted(r: { kind?: string }): boolean {
  return r.kind === 'not-attempted';
}

/**
 * Records a panel of the paper that the notebook leaves out, and why; the reproduction report lists it in the
 * figure's row. It is not a claim check: it neither passes nor fails.
 *
 * @param n the panel: `id`, `paper`, `figure`, `what` it shows in the paper, and the `reason` it is left out
 * @example
 * notAttempted({ id: '003-fig4.7c', paper: '003', figure: 'Fig 4.7(c)', what: 'WRN 10-10 on CIFAR-10', reason: 'GPU-scale network; no CIFAR offline' });
 */
export function notAttempted(n: Omit<NotAttempted, 'kind' | 'profile'>): void {
  if (n === null || typeof n !== 'object') throw new Error(`notAttempted: record = ${String(n)}; expected { id, paper, figure, what, reason }`);
  for (const k of ['id', 'paper', 'figure', 'what', 'reason'] as const) {
    if (typeof n[k] !== 'string' || !n[k]) throw new Error(`notAttempted: ${k} = ${JSON.stringify(n[k])}; expected a non-empty string`);
  }
  const record: NotAttempted = { kind: 'not-attempted', ...n, profile: profile() };
  console.log(`SKIP  ${n.paper} ${n.figure}: ${n.what}\n      not attempted: ${n.reason}`);
  const file = process.env.TANGENT_CLAIMS_FILE;
  if (file) appendWhole(file, `${JSON.stringify(record)}\n`, `the not-attempted record ${n.id}`);
}

/** Claim checks recorded in a JSON-lines file (the runner's $TANGENT_CLAIMS_FILE), without not-attempted records. */
export function readClaims(file: string): ClaimResult[] {
  return readRecords(file).filter((r) => !isNotAttempted(r as { kind?: string })) as ClaimResult[];
}

/** Not-attempted records of a claims file. */
export function readNotAttempted(file: string): NotAttempted[] {
  return readRecords(file).filter((r) => isNotAttempted(r as { kind?: string })) as NotAttempted[];
}

function readRecords(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}
