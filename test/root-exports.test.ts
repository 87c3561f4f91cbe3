// The root of the library ('tangent-lab'): its export list is pinned (a name added or dropped is a decision, made
// here), a researcher's own experiment finds what it needs on it, and the names that moved to layer subpaths in
// the re-layering (1ecb8d3) stay as deprecated aliases whose doc comment, as the editor and tslab's inspection
// show it, names the subpath they moved to.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as root from '../lib/index.js';
// Compile-time: the types an experiment of one's own declares its functions and trackers with.
import type { Cadence, Dataset, Series, Sharpness, SharpnessOptions, TrackContext, Tracker, TrainOptions, TrainResult } from '../lib/index.js';

const ROOT_DTS = fileURLToPath(new URL('../lib/index.d.ts', import.meta.url));

/** Layer namespaces (`analysis.tangentKernel`, ...). */
const NAMESPACES = ['analysis', 'core', 'data', 'experiments', 'nets', 'present', 'run', 'stats', 'tf', 'training'];
/** What a notebook uses every day and what an experiment of one's own needs. */
const CURRENT_VALUES = [
  'byProfile', 'checkClaim', 'criticalLearningRate', 'criticalSchedule', 'crossEntropy', 'describeBackend', 'distanceFromInit',
  'fcn', 'finitePoints', 'gaussianClusters', 'heatmap', 'heldOutMetrics', 'hessianSpectralNorm', 'initBackend', 'kernelSpectrum',
  'linePlot', 'linearize', 'loglogFit', 'loglogPlot', 'lossSharpness', 'meanAndStd', 'mse', 'notAttempted', 'nqm', 'openStore',
  'panels', 'profile', 'registerTasks', 'regressionData', 'remote', 'setupNotebook', 'sharpness', 'show', 'splitDataset', 'sweep',
  'tangentKernel', 'taylorCoefficients', 'taylorModel', 'threeClassMixture', 'train', 'trainLoss', 'twoClusterData', 'unitSphereData',
  'withMarkers', 'withReferenceLines',
];
const CURRENT_TYPES = ['BackendInfo', 'Cadence', 'Dataset', 'Network', 'Params', 'Profile', 'Series', 'Sharpness', 'SharpnessOptions', 'TrackContext', 'Tracker', 'TrainOptions', 'TrainResult'];
/** Names an earlier notebook imported from the root that moved to a layer subpath, with that layer. */
const MOVED: Record<string, string> = {
  approximationErrors: 'experiments', cosinesAtInit: 'experiments', curvesAlong: 'experiments', dagFigure: 'experiments', dagRun: 'experiments',
  fig1Direction: 'experiments', fig1Network: 'experiments', fig1Run: 'experiments', fig2Run: 'experiments', fig3BottleneckNetwork: 'experiments',
  fig3WidthNetwork: 'experiments', hessianScaling: 'experiments', lineCoefficients: 'experiments', loadImageSubset: 'data',
  longestPathLayers: 'nets', standardizeDataset: 'data',
};
const MOVED_TYPES: Record<string, string> = { DagRun: 'experiments', KernelChangeRun: 'experiments', Table1Model: 'experiments' };

function rootProgram(extra?: { file: string; text: string }) {
  const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, strict: true, types: [] };
  return { options, program: ts.createProgram(extra ? [ROOT_DTS, extra.file] : [ROOT_DTS], options) };
}

/** Every name the root exports (values and types), with the JSDoc tags of what it names. */
function rootExports(): Map<string, { tags: ts.JSDocTagInfo[]; docs: string }> {
  const { program } = rootProgram();
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(ROOT_DTS)!)!;
  const out = new Map<string, { tags: ts.JSDocTagInfo[]; docs: string }>();
  for (const s of checker.getExportsOfModule(module)) {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    out.set(s.name, { tags: target.getJsDocTags(checker), docs: ts.displayPartsToString(target.getDocumentationComment(checker)) });
  }
  return out;
}

describe('the root export list', () => {
  test('runtime exports: exactly the namespaces, the everyday names and the deprecated aliases', () => {
    assert.deepEqual(Object.keys(root).sort(), [...NAMESPACES, ...CURRENT_VALUES, ...Object.keys(MOVED)].sort());
  });

  test('all exports, types included (from the declarations a notebook compiles against)', () => {
    const names = [...rootExports().keys()].sort();
    assert.deepEqual(names, [...NAMESPACES, ...CURRENT_VALUES, ...Object.keys(MOVED), ...CURRENT_TYPES, ...Object.keys(MOVED_TYPES)].sort());
  });

  test('the names added for an experiment of one\'s own have doc comments with an example; functions document their parameters', () => {
    const all = rootExports();
    const added = ['lossSharpness', 'sharpness', 'trainLoss', 'heldOutMetrics', 'distanceFromInit', 'kernelSpectrum', 'registerTasks',
      'twoClusterData', 'threeClassMixture', 'gaussianClusters', 'unitSphereData', 'regressionData', 'splitDataset'];
    for (const name of added) {
      const e = all.get(name)!;
      assert.ok(e.docs.trim().length > 20, `${name}: doc comment`);
      assert.ok(e.tags.some((t) => t.name === 'example'), `${name}: @example`);
      assert.ok(e.tags.some((t) => t.name === 'param'), `${name}: @param`);
    }
    for (const name of ['Tracker', 'TrackContext', 'TrainOptions', 'TrainResult', 'Series', 'Cadence', 'Dataset', 'Sharpness', 'SharpnessOptions']) {
      assert.ok((all.get(name)?.docs ?? '').trim().length > 10, `${name}: doc comment`);
    }
  });

  test('a tracker of one\'s own type-checks against the root types', () => {
    const every: Cadence = 5;
    const mine: Tracker = { name: 'w-norm', every, stateless: true, record: (c: TrackContext) => ({ step: c.step }) };
    const series: Series = { step: [0], value: [mine.record({ step: 0 } as TrackContext).step] };
    assert.deepEqual(series.value, [0]);
    const types: [Dataset?, Sharpness?, SharpnessOptions?, TrainOptions?, TrainResult?] = [];
    assert.equal(types.length, 0);
  });
});

describe('names that moved to layer subpaths', () => {
  test("each is the subpath's own export, marked @deprecated with the subpath it moved to", async () => {
    const all = rootExports();
    for (const [name, layer] of Object.entries({ ...MOVED, ...MOVED_TYPES })) {
      const tag = all.get(name)?.tags.find((t) => t.name === 'deprecated');
      assert.ok(tag, `${name}: no @deprecated tag`);
      assert.match(ts.displayPartsToString(tag.text), new RegExp(`^moved to 'tangent-lab/${layer}'`), name);
    }
    for (const [name, layer] of Object.entries(MOVED)) {
      const sub = (await import(`tangent-lab/${layer}`)) as Record<string, unknown>;
      assert.equal((root as Record<string, unknown>)[name], sub[name], `root ${name} is tangent-lab/${layer}'s`);
    }
  });

  test('an old notebook importing them from the root compiles, and the editor flags each use as deprecated with its new path', () => {
    const file = fileURLToPath(new URL('./old-notebook-probe.ts', import.meta.url));
    const text = "import { fcn, fig1Network, longestPathLayers, loadImageSubset, type DagRun } from '../lib/index.js';\n" +
      'const net = fig1Network(4);\nconst layers = longestPathLayers(2, [[0, 1]]);\nexport const probe = [fcn, net, layers, loadImageSubset] as const;\nexport type Run = DagRun;\n';
    const { options } = rootProgram();
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => options,
      getScriptFileNames: () => [file],
      getScriptVersion: () => '1',
      getScriptSnapshot: (f) => (f === file ? ts.ScriptSnapshot.fromString(text) : ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f)!) : undefined),
      getCurrentDirectory: () => process.cwd(),
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (f) => f === file || ts.sys.fileExists(f),
      readFile: (f) => (f === file ? text : ts.sys.readFile(f)),
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
    };
    const service = ts.createLanguageService(host);
    const errors = service.getSemanticDiagnostics(file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(errors, [], 'an old notebook still compiles');
    // 6385: "'x' is deprecated." (shown struck through by editors); fcn is current and is not flagged.
    const flagged = service.getSuggestionDiagnostics(file).filter((d) => d.code === 6385 || d.code === 6387).map((d) => text.slice(d.start!, d.start! + d.length!));
    for (const name of ['fig1Network', 'longestPathLayers', 'loadImageSubset', 'DagRun']) assert.ok(flagged.includes(name), `${name} flagged as deprecated: ${flagged}`);
    assert.ok(!flagged.includes('fcn'), 'fcn is not deprecated');
    // Inspection (hover, tslab's shift-tab) on the imported name, or on a use that is not a call (a call shows the
    // signature's own comment), shows where the name went.
    for (const [name, at, layer] of [['fig1Network', text.indexOf('fig1Network'), 'experiments'], ['loadImageSubset', text.indexOf('loadImageSubset] as'), 'data']] as const) {
      const info = service.getQuickInfoAtPosition(file, at);
      const deprecated = info?.tags?.find((t) => t.name === 'deprecated');
      assert.ok(deprecated, `${name}: quick info has the @deprecated tag`);
      assert.equal(ts.displayPartsToString(deprecated.text), `moved to 'tangent-lab/${layer}': \`import { ${name} } from 'tangent-lab/${layer}'\``);
    }
  });
});
