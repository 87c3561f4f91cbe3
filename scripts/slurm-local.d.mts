// Types of scripts/slurm-local.mjs (for the tests).
export declare const APT_PACKAGES: string[];
export declare const NODE_NAME: string;
export interface LocalSlurm {
  dir: string;
  conf: string;
  env: { SLURM_CONF: string };
  ports: { ctld: number; slurmd: number };
  pids: Record<string, number>;
  stop(): Promise<void>;
}
export declare function ensureSlurm(log?: (line: string) => void): string | undefined;
export declare function startLocalSlurm(options?: { dir?: string; log?: (line: string) => void; timeoutMs?: number }): Promise<LocalSlurm>;
export declare function stopLocalSlurm(dir: string): Promise<void>;
export declare function killLocalSlurm(dir: string): void;
/** Local addresses listening on TCP `port` (from /proc/net/tcp and tcp6, or the given tables' text). */
export declare function listeningAddresses(port: number, tables?: string[]): string[];
