// Types of scripts/build-lock.mjs (for the tests).
export declare function withBuildLock<T>(lock: string, fn: () => T, options?: { staleMs?: number; log?: (line: string) => void }): T;
