// Companion of complete-provided-exports.mjs: tslab's complete_reply always sends `metadata: {}`; the patch
// sends the metadata the converter computed (Jupyter's `_jupyter_types_experimental`: per match its kind and,
// for a provided package's export not yet imported, where to import it from), which JupyterLab shows beside
// each match.
const MARKER = '/* tangent-lab patch: completion metadata */';

export default {
  name: 'the complete reply carries the completion metadata',
  file: 'dist/jupyter.js',
  marker: MARKER,
  anchor: `            matches: info.candidates,
            metadata: {},`,
  replacement: `            matches: info.candidates,
            ${MARKER}
            metadata: info.metadata || {},`,
};
