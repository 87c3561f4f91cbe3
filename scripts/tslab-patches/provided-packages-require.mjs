// Bug fixed (runtime side of provided-packages-types.mjs): a cell's `require('tangent-lab')` (tslab emits
// CommonJS) resolves from the notebook's folder, so a notebook outside the checkout failed with `Cannot find
// module 'tangent-lab'` even once it type-checked. tslab hooks `require('tslab')` to its own package; the patch
// does the same for the packages named in TSLAB_PROVIDED_PACKAGES (JSON `{ "name": "/its/folder" }`, set by
// scripts/kernel.mjs): `name` and `name/subpath` are required from the package's own folder (a require rooted
// at its package.json, so the package's "exports" map applies as it does inside the checkout). Also in the
// modules beside the notebook (`./helpers.ts`), whose require tslab wraps the same way.
const MARKER = '/* tangent-lab patch: provided packages (require) */';

export default {
  name: 'packages provided by the kernel are required from their own folder',
  file: 'dist/executor.js',
  marker: MARKER,
  anchor: `            if (arg === "tslab") {
                // Hook require('tslab').
                return require("..");
            }`,
  replacement: `            if (arg === "tslab") {
                // Hook require('tslab').
                return require("..");
            }
            ${MARKER}
            if (typeof arg === "string" && !arg.startsWith(".") && !path_1.default.isAbsolute(arg)) {
                const parts = arg.split("/");
                const name = arg.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
                let dir;
                try {
                    dir = JSON.parse(process.env.TSLAB_PROVIDED_PACKAGES || "{}")[name];
                }
                catch (e) {
                    dir = undefined;
                }
                if (typeof dir === "string" && dir !== "") {
                    return module_1.default.createRequire(path_1.default.join(dir, "package.json"))(arg);
                }
            }`,
};
