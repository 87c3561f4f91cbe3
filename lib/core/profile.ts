/**
 * The experiment scale: `quick` sizes every notebook to a few minutes on two cores (CI, interactive sessions),
 * `paper` uses the paper's sizes where a CPU can run them. Set by `TANGENT_PROFILE` (`npm run reproduce --profile`).
 */
export type Profile = 'quick' | 'paper';
const PROFILES: Profile[] = ['quick', 'paper'];

/**
 * The experiment scale requested by the runner (`TANGENT_PROFILE`), `quick` when unset so that an
 * interactive session starts small.
 *
 * @param env the environment to read `TANGENT_PROFILE` from (default `process.env`)
 * @returns `'quick'` or `'paper'`; throws on any other value of `TANGENT_PROFILE`
 * @example
 * const steps = profile() === 'paper' ? 10_000 : 300;
 */
export function profile(env: NodeJS.ProcessEnv = process.env): Profile {
  const raw = env.TANGENT_PROFILE?.trim();
  if (!raw) return 'quick';
  if (!(PROFILES as string[]).includes(raw)) {
    throw new Error(`TANGENT_PROFILE='${raw}' is not a profile; expected one of ${PROFILES.join(', ')}`);
  }
  return raw as Profile;
}

/**
 * Picks the value for the current profile (see {@link profile}), e.g. a notebook's widths or seed count.
 *
 * @param choices one value per profile
 * @param env the environment to read `TANGENT_PROFILE` from (default `process.env`)
 * @example
 * const widths = byProfile({ quick: [30, 100], paper: [30, 100, 1000] });
 */
export function byProfile<T>(choices: Record<Profile, T>, env: NodeJS.ProcessEnv = process.env): T {
  const p = profile(env);
  if (choices === null || typeof choices !== 'object' || !Object.hasOwn(choices, p)) {
    throw new Error(`byProfile: choices = ${JSON.stringify(choices)} has no value for the profile '${p}'; expected one value per profile (quick, paper)`);
  }
  return choices[p];
}
