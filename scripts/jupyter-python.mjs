// Finds a Python interpreter that can import the Jupyter modules the project drives.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { venvPython } from './project.mjs';

/** TANGENT_PYTHON, then the project venv (.venv, made by the set-up), then the system interpreters. */
export const CANDIDATES = () =>
  [process.env.TANGENT_PYTHON, existsSync(venvPython()) ? venvPython() : undefined, 'python3', '/usr/bin/python3', 'python'].filter(Boolean);

/** `python` imports every module and, if given, the Python expression `check` is true. */
export function pythonHas(python, modules, check) {
  const code = [...modules.map((m) => `import ${m}`), ...(check ? [`assert ${check}`] : [])].join('; ');
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * First candidate that imports every module (and satisfies `check`, a Python expression such as
 * `notebook.__version__ < '7'`), or throws naming what to install.
 */
export function findJupyterPython(modules, check) {
  for (const py of CANDIDATES()) {
    if (pythonHas(py, modules, check)) return py;
  }
  throw new Error(
    `no Python found with ${modules.join(', ')}${check ? ` where ${check}` : ''} (tried ${CANDIDATES().join(', ')}); run 'npm run setup' ` +
      `or set TANGENT_PYTHON to an interpreter that has them`,
  );
}
