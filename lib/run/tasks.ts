/**
 * The functions a sweep worker may run, by name. Experiment modules register theirs:
 *
 * ```ts
 * registerTasks(import.meta.url, { fig1Run, fig2Run });
 * declare module '../run/tasks.js' { interface TaskRegistry { fig1Run: typeof fig1Run; fig2Run: typeof fig2Run } }
 * ```
 *
 * so that `remote('fig1Run', ...)` is typed by the function and a worker process imports exactly the module
 * that defines it (the module, not the library root, is what a result's code fingerprint covers).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface TaskRegistry {}

export type TaskName = keyof TaskRegistry & string;

const modules = new Map<string, string>();

/**
 * Registers `fns` (name → function) as tasks defined in the module at `moduleUrl` (its `import.meta.url`), so
 * that `remote(name, args)` finds the module without its URL once this module has been imported.
 *
 * @param moduleUrl the defining module's `import.meta.url`
 * @param fns the exported functions, by name (unique across modules)
 * @example
 * export function myRun(point: { lr: number }) { return { lr: point.lr }; }
 * registerTasks(import.meta.url, { myRun });   // in the module that defines myRun (e.g. my_task.mjs)
 */
export function registerTasks(moduleUrl: string, fns: Record<string, (...args: never[]) => unknown>): void {
  if (typeof moduleUrl !== 'string' || !moduleUrl) throw new Error(`registerTasks: moduleUrl = ${JSON.stringify(moduleUrl)}; expected the URL of the module defining the tasks (import.meta.url)`);
  if (fns === null || typeof fns !== 'object' || Object.values(fns).some((f) => typeof f !== 'function')) {
    throw new Error(`registerTasks: fns = ${fns === null || typeof fns !== 'object' ? String(fns) : 'an object with a value that is not a function'}; expected an object of task functions by name`);
  }
  for (const name of Object.keys(fns)) {
    const prev = modules.get(name);
    if (prev !== undefined && prev !== moduleUrl) {
      throw new Error(`registerTasks: name = '${name}' is already registered by ${prev}; expected a name unique across experiment modules`);
    }
    modules.set(name, moduleUrl);
  }
}

/** The module URL that defines task `name`, or undefined. */
export function taskModule(name: string): string | undefined {
  return modules.get(name);
}

/** Names of all registered tasks, sorted. */
export function registeredTasks(): string[] {
  return [...modules.keys()].sort();
}
