// Resolve hook of scripts/resolve-anywhere.mjs: `tangent-lab` and `tangent-lab/<subpath>` that the normal
// resolution does not find (a module outside the checkout) are resolved from this checkout's package.json, so
// its "exports" map applies as inside the checkout. Everything the normal resolution finds is left to it.
const PACKAGE = 'tangent-lab';
const ROOT_PACKAGE_JSON = new URL('../package.json', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !(specifier === PACKAGE || specifier.startsWith(`${PACKAGE}/`))) throw e;
    return nextResolve(specifier, { ...context, parentURL: ROOT_PACKAGE_JSON });
  }
}
