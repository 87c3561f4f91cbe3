import { describeBackend, initBackend, type BackendInfo } from '../core/backend.js';
import { profile as currentProfile, type Profile } from '../core/profile.js';

export interface NotebookSetup {
  backend: BackendInfo;
  profile: Profile;
}

/**
 * First cell of every notebook: selects the compute backend and prints
 * `backend: <backend and versions>  profile: <quick|paper>`. The runner (scripts/run_notebooks.py)
 * reads that line into reproduction/run.json, so keep its format.
 */
export async function setupNotebook(title?: string): Promise<NotebookSetup> {
  const backend = await initBackend();
  const profile = currentProfile();
  if (title) console.log(title);
  console.log(`backend: ${describeBackend(backend)}  profile: ${profile}`);
  return { backend, profile };
}
