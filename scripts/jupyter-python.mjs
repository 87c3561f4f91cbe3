// Finds a Python interpreter that can import the Jupyter modules the project drives.
import { spawnSync } from 'node:child_process';

const CANDIDATES = () => [process.env.TANGENT_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter(Boolean);

export function pythonHas(python, modules) {
  const r = spawnSync(python, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  return r.status === 0;
}

/** First candidate that imports every module, or throws naming what to install. */
export function findJupyterPython(modules) {
  for (const py of CANDIDATES()) {
    if (pythonHas(py, modules)) return py;
  }
  throw new Error(
    `no Python found with ${modules.join(', ')} (tried ${CANDIDATES().join(', ')}); run 'npm run setup' ` +
      `or set TANGENT_PYTHON to an interpreter that has them`,
  );
}
