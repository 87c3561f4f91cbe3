// Helpers shared by the tests that drive the kernel and the runner (compiled to dist/test/).
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without blocking the event loop (node:test timeouts keep working); `input` goes to its stdin. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    if (opts.input !== undefined) child.stdin.end(opts.input);
  });
}

/** `node scripts/reproduce.mjs ...args` from the project root. */
export function reproduce(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return run(process.execPath, [join(root, 'scripts', 'reproduce.mjs'), ...args], { env });
}

/** The Python interpreter with the Jupyter modules (scripts/jupyter-python.mjs); `check`: a Python condition. */
export async function jupyterPython(modules: string[], check?: string): Promise<string> {
  const mod = (await import(pathToFileURL(join(root, 'scripts', 'jupyter-python.mjs')).href)) as {
    findJupyterPython(modules: string[], check?: string): string;
  };
  return mod.findJupyterPython(modules, check);
}

export interface NotebookJson {
  cells: { cell_type: string; source: string | string[]; outputs?: { output_type: string; name?: string; text?: string | string[] }[] }[];
}

/** Minimal nbformat 4.5 notebook for the project kernel with one code cell per source. */
export function notebook(...sources: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tangent-lab', display_name: 'TypeScript (tangent-lab)', language: 'typescript' } },
    cells: sources.map((source, i) => ({
      cell_type: 'code',
      id: `cell-${i + 1}`,
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    })),
  });
}

/** Concatenated stdout stream text of each code cell. */
export function cellStdout(nb: NotebookJson): string[] {
  const text = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (c.outputs ?? []).filter((o) => o.output_type === 'stream' && o.name === 'stdout').map((o) => text(o.text)).join(''));
}
