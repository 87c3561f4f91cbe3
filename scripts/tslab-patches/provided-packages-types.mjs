// Bug fixed: a notebook outside the checkout could not import the library: `Cannot find module 'tangent-lab'`.
// tslab compiles cells as `<cwd>/__tslab__.ts` with classic node resolution (Node10), which looks for
// `node_modules/tangent-lab` in the notebook's folder and its parents only, so the checkout's package is found
// only for notebooks inside it; NODE_PATH does not reach the TypeScript compiler. tslab already serves its own
// package this way (`forwardTslabPath`: `<cwd>/node_modules/tslab/...` is read from tslab's folder, and
// `<cwd>/node_modules` is faked to exist); the patch does the same for every package named in the
// TSLAB_PROVIDED_PACKAGES environment variable (JSON `{ "name": "/its/folder" }`, set by scripts/kernel.mjs),
// for the compiler host's reads, existence checks, directory listings and realpath, so that the .d.ts files
// (and the subpaths' typesVersions) resolve, under their real paths, from a notebook in any folder. The
// runtime side is scripts/tslab-patches/provided-packages-require.mjs.
const MARKER = '/* tangent-lab patch: provided packages (types) */';

export default {
  name: 'packages provided by the kernel resolve (with their types) from a notebook in any folder',
  file: 'dist/converter.js',
  marker: MARKER,
  anchor: `    sys.writeFile = function (path, data) {
        throw new Error("writeFile must not be called");
    };`,
  replacement: `    sys.writeFile = function (path, data) {
        throw new Error("writeFile must not be called");
    };
    ${MARKER}
    {
        let provided = {};
        try {
            provided = JSON.parse(process.env.TSLAB_PROVIDED_PACKAGES || "{}");
        }
        catch (e) {
            console.error("tslab: TSLAB_PROVIDED_PACKAGES is not JSON ({ name: folder }); ignored: " + e.message);
        }
        const forwards = Object.entries(provided)
            .filter(([name, dir]) => typeof dir === "string" && dir !== "")
            .map(([name, dir]) => ({ from: (0, tspath_1.normalizeJoin)(cwd, "node_modules", name), to: (0, tspath_1.normalizeSlashes)(dir) }));
        const forwardProvided = (p) => {
            if (typeof p !== "string") {
                return p;
            }
            for (const { from, to } of forwards) {
                if (p === from) {
                    return to;
                }
                if (p.startsWith(from + "/")) {
                    return to + p.slice(from.length);
                }
            }
            return p;
        };
        for (const method of ["readFile", "fileExists", "directoryExists", "readDirectory", "getDirectories", "realpath"]) {
            const original = sys[method];
            if (typeof original !== "function") {
                continue;
            }
            sys[method] = function (p, ...rest) {
                return original.call(this, forwardProvided(p), ...rest);
            };
        }
    }`,
};
