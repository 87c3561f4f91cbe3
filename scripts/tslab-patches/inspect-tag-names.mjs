// Bug fixed: tslab's inspection printed a doc comment's tags as bare text except @param, so a function's
// `@returns` line and its `@example` code ran on after the parameters as if they were more description. The
// patch prints every tag with its name (`@returns K, (nC) x (nC) ...`), an example's code on the lines after
// `@example`.
const MARKER = '/* tangent-lab patch: inspect tag names */';

export default {
  name: 'inspection prints every doc tag with its name',
  file: 'dist/inspect.js',
  marker: MARKER,
  anchor: `        if (tagText)
            if (tag.name === "param") {
                text = "@param " + text;
            }`,
  replacement: `        ${MARKER}
        text = tag.name === "example" ? "@example\\n" + text : "@" + tag.name + " " + text;`,
};
