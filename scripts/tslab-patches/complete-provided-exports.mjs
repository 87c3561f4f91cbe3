// Missing feature: Tab completion offered only names already in scope, so a researcher had to know that
// `lossSharpness` exists and import it before completing it. tslab's completion calls TypeScript's
// completions without a language-service host, so TypeScript's own auto-import completions (which need that
// host, its export-info cache and the module specifier resolver) cannot run. The patch adds, after tslab's own
// candidates, the root exports of the packages the kernel provides (TSLAB_PROVIDED_PACKAGES, see
// provided-packages-types.mjs) that start with the typed identifier (case-insensitively) and are not in scope:
// values in a value position, types in a type position; never after a `.`, in an import, or for a name being
// declared. Each candidate carries Jupyter's completion metadata (`_jupyter_types_experimental`, which
// JupyterLab shows beside the name): the kind, and for an added one where to import it from (`function ·
// import from 'tangent-lab'`); completing inserts the name only, the import is the user's line to write (a
// completion replaces the typed identifier, it cannot add a line at the top of the cell). The packages' entry
// declarations are added to the compiler's root files once, so they are offered before the first import.
// jupyter.js's reply carries the metadata: complete-metadata.mjs.
const MARKER = '/* tangent-lab patch: complete the provided packages\' exports */';

export default {
  name: 'completion offers the provided packages\' root exports, with where to import them from',
  file: 'dist/converter.js',
  marker: MARKER,
  anchor: `    function complete(prevDecl, src, position) {
        updateContent(prevDecl, src);`,
  replacement: `    ${MARKER}
    function complete(prevDecl, src, position) {
        addProvidedRoots();
        const result = completeInScope(prevDecl, src, position);
        try {
            return withProvidedExports(result, position);
        }
        catch (e) {
            // A completion never fails because of the extra candidates.
            return result;
        }
    }
    function providedEntryFiles() {
        let provided = {};
        try {
            provided = JSON.parse(process.env.TSLAB_PROVIDED_PACKAGES || "{}");
        }
        catch (e) {
            return [];
        }
        const out = [];
        for (const name of Object.keys(provided)) {
            const r = ts.resolveModuleName(name, srcFilename, builder.getProgram().getCompilerOptions(), sys);
            if (r.resolvedModule) {
                out.push({ name, file: r.resolvedModule.resolvedFileName });
            }
        }
        return out;
    }
    function addProvidedRoots() {
        // (a property, not a variable: this code sits after createConverter's return)
        if (addProvidedRoots.done) {
            return;
        }
        addProvidedRoots.done = true;
        const files = providedEntryFiles().map((e) => e.file).filter((f) => !rootFiles.has(f));
        if (files.length === 0) {
            return;
        }
        for (const f of files) {
            rootFiles.add(f);
        }
        watch.updateRootFileNames(Array.from(rootFiles));
        if (rebuildTimer) {
            rebuildTimer.callback();
        }
    }
    function symbolKind(flags) {
        const F = ts.SymbolFlags;
        if (flags & F.Function) return "function";
        if (flags & F.Class) return "class";
        if (flags & F.Enum) return "enum";
        if (flags & (F.ValueModule | F.NamespaceModule)) return "namespace";
        if (flags & F.Variable) return "const";
        if (flags & F.Interface) return "interface";
        if (flags & F.TypeAlias) return "type";
        return "";
    }
    function withProvidedExports(result, position) {
        const info = result.original;
        const program = builder.getProgram();
        const checker = program.getTypeChecker();
        const srcFile = builder.getSourceFile(srcFilename);
        const pos = position + srcPrefix.length;
        const entryKind = new Map(((info && info.entries) || []).map((e) => [e.name, e.kind]));
        const metadata = (name, type) => ({ start: result.start, end: result.end, text: name, type });
        const types = result.candidates.map((name) => metadata(name, entryKind.get(name) || ""));
        const plain = Object.assign({}, result, { metadata: { _jupyter_types_experimental: types } });
        const prev = ts.findPrecedingToken(pos, srcFile);
        if (!prev || !ts.isIdentifier(prev) || prev.end < pos || (info && info.isMemberCompletion)) {
            return plain;
        }
        const parent = prev.parent;
        const isMemberName = (ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && parent.name === prev;
        const inImport = !!ts.findAncestor(prev, (n) => ts.isImportDeclaration(n) || ts.isExportDeclaration(n));
        if (isMemberName || inImport || ts.isDeclarationName(prev)) {
            return plain;
        }
        const typed = srcFile.text.slice(prev.getStart(srcFile), pos).toLowerCase();
        if (typed === "") {
            return plain;
        }
        const inType = ts.isPartOfTypeNode(prev);
        const have = new Set(result.candidates);
        const added = [];
        for (const { name: pkg, file } of providedEntryFiles()) {
            const sf = program.getSourceFile(file);
            const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
            if (!moduleSymbol) {
                continue;
            }
            for (const sym of checker.getExportsOfModule(moduleSymbol)) {
                const name = sym.name;
                if (name === "default" || have.has(name) || !name.toLowerCase().startsWith(typed)) {
                    continue;
                }
                const flags = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym).flags : sym.flags;
                const wanted = inType ? flags & (ts.SymbolFlags.Type | ts.SymbolFlags.Namespace) : flags & ts.SymbolFlags.Value;
                if (!wanted) {
                    continue;
                }
                have.add(name);
                added.push({ name, type: (symbolKind(flags) + " · import from '" + pkg + "'").trim() });
            }
        }
        added.sort((a, b) => a.name.localeCompare(b.name));
        return Object.assign({}, result, {
            candidates: result.candidates.concat(added.map((a) => a.name)),
            metadata: { _jupyter_types_experimental: types.concat(added.map((a) => metadata(a.name, a.type))) },
        });
    }
    function completeInScope(prevDecl, src, position) {
        updateContent(prevDecl, src);`,
};
