export type Profile = 'quick' | 'paper';
const PROFILES: Profile[] = ['quick', 'paper'];

/**
 * The experiment scale requested by the runner (`TANGENT_PROFILE`), `quick` when unset so that an
 * interactive session starts small.
 */
export function profile(env: NodeJS.ProcessEnv = process.env): Profile {
  const raw = env.TANGENT_PROFILE?.trim();
  if (!raw) return 'quick';
  if (!(PROFILES as string[]).includes(raw)) {
    throw new Error(`TANGENT_PROFILE='${raw}' is not a profile; expected one of ${PROFILES.join(', ')}`);
  }
  return raw as Profile;
}

/** Picks the value for the current profile: `byProfile({ quick: [30, 100], paper: [30, 100, 1000] })`. */
export function byProfile<T>(choices: Record<Profile, T>, env: NodeJS.ProcessEnv = process.env): T {
  return choices[profile(env)];
}
