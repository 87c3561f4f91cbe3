import { describeBackend, initBackend, type BackendInfo } from '../core/backend.js';
import { profile as currentProfile, type Profile } from '../core/profile.js';

/** What {@link setupNotebook} selected. */
export interface NotebookSetup {
  backend: BackendInfo;
  profile: Profile;
}

/**
 * First cell of every notebook: selects the compute backend and prints
 * `backend: <backend and versions>  profile: <quick|paper>`. The runner (scripts/run_notebooks.py)
 * reads that line into reproduction/run.json, so keep its format.
 *
 * @param title an optional line printed before the backend line (e.g. the notebook's paper and figure)
 * @returns the backend chosen (see {@link initBackend}) and the profile (`TANGENT_PROFILE`, quick when unset)
 * @example
 * const { backend, profile } = await setupNotebook();   // prints: backend: wasm+openblas (...)  profile: quick
 */
export async function setupNotebook(title?: string): Promise<NotebookSetup> {
  const backend = await initBackend();
  const profile = currentProfile();
  if (title) console.log(title);
  console.log(`backend: ${describeBackend(backend)}  profile: ${profile}`);
  return { backend, profile };
}
