// Bug fixed: in JupyterLab, Shift+Tab right after `tangentKernel(` showed nothing and inside the arguments showed
// `any` (or the argument's own type); only the cursor on the name showed the doc. tslab answers an inspect
// request with TypeScript's quick info of the token at the cursor, which after `(` is the parenthesis. The patch
// answers, inside a call's argument list (right after the open parenthesis and anywhere in it, as IPython
// does), with what an editor's signature help shows: the callee's signature as resolved for this call (the
// overload that matches), the parameter the cursor's argument goes to, the doc comment and its tags (@param, @returns,
// @example). The quick info stays for the cursor on a name that is itself called (`console.log(tangentKe|rnel(`
// shows tangentKernel), outside any argument list, and inside a function written as an argument (a callback's
// body is code of its own, so the cursor on its variables shows them). A name not in scope that a provided
// package exports (TSLAB_PROVIDED_PACKAGES; what complete-provided-exports.mjs offers) shows the export's doc
// with the import line it needs: JupyterLab's completer shows that inspection as the candidate's doc.
const MARKER = '/* tangent-lab patch: inspect inside a call */';

export default {
  name: 'inspection inside a call shows the callee\'s signature and doc',
  file: 'dist/converter.js',
  marker: MARKER,
  anchor: `        const info = ts.getQuickInfoAtPosition(srcFile, builder.getProgram().getTypeChecker(), cancellationToken, position + srcPrefix.length);
        if (info && info.textSpan) {
            info.textSpan.start -= srcPrefix.length;
        }
        return info;`,
  replacement: `        ${MARKER}
        const info = signatureInfoInCall(srcFile, position + srcPrefix.length) ||
            unimportedExportInfo(srcFile, position + srcPrefix.length) ||
            ts.getQuickInfoAtPosition(srcFile, builder.getProgram().getTypeChecker(), cancellationToken, position + srcPrefix.length);
        if (info && info.textSpan) {
            info.textSpan.start -= srcPrefix.length;
        }
        return info;
        function isCallee(node) {
            // \`f(\`, \`a.b.f(\`, \`new F(\`: the name the call is made through.
            let expr = node;
            if (expr.parent && ts.isPropertyAccessExpression(expr.parent) && expr.parent.name === expr) {
                expr = expr.parent;
            }
            const call = expr.parent;
            return !!call && (ts.isCallExpression(call) || ts.isNewExpression(call) || ts.isTaggedTemplateExpression(call)) &&
                (ts.isTaggedTemplateExpression(call) ? call.tag : call.expression) === expr;
        }
        function unimportedExportInfo(sf, pos) {
            // A name not in scope that a provided package exports (a completion offered it): its doc, and
            // the import line it needs.
            const id = ts.getTouchingPropertyName(sf, pos);
            const program = builder.getProgram();
            const checker = program.getTypeChecker();
            if (!id || !ts.isIdentifier(id) || checker.getSymbolAtLocation(id) || ts.isDeclarationName(id) ||
                ((ts.isPropertyAccessExpression(id.parent) || ts.isQualifiedName(id.parent)) && id.parent.name === id)) {
                return undefined;
            }
            let provided = {};
            try {
                provided = JSON.parse(process.env.TSLAB_PROVIDED_PACKAGES || "{}");
            }
            catch (e) {
                return undefined;
            }
            for (const pkg of Object.keys(provided)) {
                const r = ts.resolveModuleName(pkg, srcFilename, program.getCompilerOptions(), sys);
                const lib = r.resolvedModule && program.getSourceFile(r.resolvedModule.resolvedFileName);
                const moduleSymbol = lib && checker.getSymbolAtLocation(lib);
                const sym = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === id.text);
                const decl = sym && sym.declarations && sym.declarations[0];
                const name = decl && ts.getNameOfDeclaration(decl);
                const info = name && ts.getQuickInfoAtPosition(decl.getSourceFile(), checker, cancellationToken, name.getStart());
                if (info) {
                    const hint = "not imported: import { " + id.text + " } from '" + pkg + "';\\n";
                    return Object.assign({}, info, {
                        textSpan: { start: id.getStart(sf), length: id.end - id.getStart(sf) },
                        displayParts: [{ text: hint, kind: "text" }].concat(info.displayParts || []),
                    });
                }
            }
            return undefined;
        }
        function signatureInfoInCall(sf, pos) {
            const touching = ts.getTouchingPropertyName(sf, pos);
            if (touching && (ts.isIdentifier(touching) || ts.isPrivateIdentifier(touching)) && isCallee(touching)) {
                return undefined;
            }
            const help = ts.SignatureHelp.getSignatureHelpItems(builder.getProgram(), sf, pos, undefined, cancellationToken);
            if (!help || help.items.length === 0) {
                return undefined;
            }
            // Between the cursor and the call: a function written as an argument has code of its own.
            for (let n = ts.findTokenOnLeftOfPosition(sf, pos); n && n.kind !== ts.SyntaxKind.SourceFile; n = n.parent) {
                if (n.getStart(sf) < help.applicableSpan.start) {
                    break;
                }
                if (ts.isFunctionLike(n) || ts.isClassLike(n)) {
                    return undefined;
                }
            }
            const item = help.items[help.selectedItemIndex] || help.items[0];
            const text = (parts) => (parts || []).map((p) => p.text).join("");
            const separator = text(item.separatorDisplayParts);
            const signature = text(item.prefixDisplayParts) + item.parameters.map((p) => text(p.displayParts)).join(separator) + text(item.suffixDisplayParts);
            const lines = [signature];
            if (help.items.length > 1) {
                lines.push("(overload " + (help.items.indexOf(item) + 1) + " of " + help.items.length + ")");
            }
            // (TypeScript's argumentIndex is the parameter's: the arguments a rest parameter takes map to it)
            const current = item.parameters[help.argumentIndex];
            if (current) {
                const doc = text(current.documentation);
                lines.push("parameter " + (help.argumentIndex + 1) + ": " + text(current.displayParts) + (doc ? " - " + doc : ""));
            }
            return {
                kind: ts.ScriptElementKind.callSignatureElement,
                kindModifiers: "",
                textSpan: { start: help.applicableSpan.start, length: help.applicableSpan.length },
                displayParts: [{ text: lines.join("\\n"), kind: "text" }],
                documentation: item.documentation,
                tags: item.tags,
            };
        }`,
};
