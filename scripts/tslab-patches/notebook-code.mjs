// Feature for the result store (lib/run/notebook-code.ts): a result computed by a function written in a
// notebook is keyed by that function's source and the sources of the notebook declarations it references,
// as this kernel executed them. tslab keeps no record of what it ran, so the patch records, for every cell
// that compiles: its TypeScript source and its compiled JavaScript (a function's `toString()` is a piece
// of the latter). It also records the sha256 of every CommonJS file this kernel compiles (a user module a
// cell imports is `require`d: tslab compiles cells to CommonJS), so that a module edited on disk after it
// was loaded is refused rather than keyed by code that is not the code in memory. The registry is
// `globalThis[Symbol.for('tangent-lab.notebook')]`; tslab's own TypeScript is passed along (`ts`) so that
// the library parses cells with the parser that compiled them.
const MARKER = '/* tangent-lab patch: notebook code */';

export default {
  name: 'record the cells the kernel executes (notebook code in result keys)',
  file: 'dist/executor.js',
  marker: MARKER,
  anchor: `        if (!converted.output) {
            prevDecl = converted.declOutput || "";
            return true;
        }
        let promise = null;`,
  replacement: `        if (!converted.output) {
            prevDecl = converted.declOutput || "";
            return true;
        }
        ${MARKER}
        try {
            const key = Symbol.for("tangent-lab.notebook");
            let registry = globalThis[key];
            if (!registry) {
                const crypto = require("crypto");
                registry = globalThis[key] = { version: 1, cells: [], loaded: new Map(), locals: exports, ts: require("@tslab/typescript-for-tslab") };
                // The text a CommonJS file is compiled from is the text its code in memory came from (BOM stripped).
                const compile = module_1.default.prototype._compile;
                module_1.default.prototype._compile = function (content, filename) {
                    if (typeof content === "string" && typeof filename === "string") {
                        registry.loaded.set(filename, crypto.createHash("sha256").update(content).digest("hex"));
                    }
                    return compile.apply(this, arguments);
                };
            }
            registry.cells.push({ source: src, compiled: converted.output });
        }
        catch (e) {
            console.error("tangent-lab: cannot record the cell for result keys:", e);
        }
        let promise = null;`,
};
