// Bug fixed: an object shorthand property naming a variable of an earlier cell, `train({ net, lr })`, threw
// `ReferenceError: net is not defined`. tslab rewrites references to earlier cells' variables to
// `exports.name`, but finds them with `checker.getSymbolAtLocation`, which for a shorthand property returns
// the property, not the variable, so `{ net }` was emitted unchanged. The patch rewrites it to
// `{ net: exports.net }` (with a default, `{ net = d } = o` in a destructuring, to `{ net: exports.net = d }`).
const MARKER = '/* tangent-lab patch: shorthand properties */';

export default {
  name: 'shorthand properties of earlier cells\' variables',
  file: 'dist/converter.js',
  marker: MARKER,
  anchor: `        function wrapPrevIdentifier(node) {
            var _a, _b;
            if (!ts.isIdentifier(node)) {`,
  replacement: `        function wrapPrevIdentifier(node) {
            var _a, _b;
            ${MARKER}
            if (ts.isShorthandPropertyAssignment(node)) {
                const original = ts.getOriginalNode(node);
                const symbol = ts.isShorthandPropertyAssignment(original) ? checker.getShorthandAssignmentValueSymbol(original) : undefined;
                if (symbol && (symbol.declarations || []).some((d) => d.getSourceFile() === declsFile)) {
                    let value = ts.factory.createPropertyAccessExpression(ts.factory.createIdentifier("exports"), ts.factory.createIdentifier(ts.idText(node.name)));
                    if (node.objectAssignmentInitializer) {
                        value = ts.factory.createAssignment(value, ts.visitNode(node.objectAssignmentInitializer, wrapPrevIdentifier));
                    }
                    return ts.factory.createPropertyAssignment(ts.factory.createIdentifier(ts.idText(node.name)), value);
                }
            }
            if (!ts.isIdentifier(node)) {`,
};
