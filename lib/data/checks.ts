/** Argument checks with messages naming the function, the parameter, the value and what was expected. */

export function checkInt(fn: string, name: string, value: unknown, min = 0): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${fn}: ${name} = ${String(value)}; expected an integer ≥ ${min}`);
  }
}

export function checkPositive(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${fn}: ${name} = ${String(value)}; expected a finite number > 0`);
  }
}

export function checkNonNegative(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${fn}: ${name} = ${String(value)}; expected a finite number ≥ 0`);
  }
}

export function checkOneOf<T extends string>(fn: string, name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new Error(`${fn}: ${name} = ${JSON.stringify(value)}; expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
}
