"""Executes notebooks headlessly with nbclient, one fresh kernel each (driven by scripts/reproduce.mjs).

A notebook stops at its first failing cell. tslab reports a failure (type error or exception) as an
execute_reply with status 'error' but without ename/evalue/traceback; the diagnostic arrives as a
stderr stream, so the error text is taken from the cell's outputs. tslab also answers 'abort' to
requests that arrive within 200 ms of a failure; an aborted cell counts as failed too.

A notebook that produces no kernel message for --timeout-idle seconds is reported as hung and its
kernel killed.

SIGINT, SIGTERM and SIGHUP, and the end of the process that started this one (npm run reproduce killed
by SIGKILL or the OOM killer), stop the run: the kernel's process group (the kernel and its sweep
workers) is killed, the running notebook is recorded as interrupted with the signal, run.json written.
Every file is written atomically (temporary file, then rename): a full output folder ends the run with a
message naming the folder and keeps the earlier executed notebooks and run.json.

--parameters JSON (from `npm run reproduce -p name=value`) follows papermill's convention: a code cell
tagged 'injected-parameters' is inserted after the cell tagged 'parameters' (replacing an earlier injected
one). The parameters cell defines an object (`const P = { ... }`); the injected cell assigns the values
with `satisfies Partial<typeof P>`, so the kernel's type checker rejects an unknown name or a wrong type.
"""
import argparse
import asyncio
import datetime
import errno
import json
import math
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

BACKEND_LINE = re.compile(r'^backend: (.+?)  profile: (\S+)\s*$', re.M)
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
# Stack frames of the kernel machinery below the notebook code (node:vm, tslab itself).
KERNEL_FRAME = re.compile(r'^\s+at .*(node:vm|node:internal|sigintHandlersWrap|[/\\]tslab[/\\]dist[/\\]).*\n?', re.M)


class CellAborted(Exception):
    pass


class WriteFailed(Exception):
    """A file of the output folder could not be written (full disk, read-only, permissions)."""

    def __init__(self, what, folder, err):
        why = os.strerror(err.errno) if isinstance(err, OSError) and err.errno else str(err)
        code = f' ({errno.errorcode.get(err.errno, err.errno)})' if isinstance(err, OSError) and err.errno else ''
        super().__init__(f'cannot write {what} in {folder}: {why}{code}; the earlier files there are kept')
        self.errno = getattr(err, 'errno', None)


def write_atomic(path, text, what):
    """Writes text to a temporary file beside path, fsyncs and renames it over path: never a partial file."""
    path = Path(path)
    tmp = path.with_name(f'.{path.name}.tmp-{os.getpid()}')
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise WriteFailed(what, path.parent, e) from e


class Stop:
    """Why the run is ending early (a signal, or the parent process is gone), and the kernel to kill."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self):
        self.reason = None  # 'SIGINT', 'SIGTERM', 'SIGHUP' or 'parent gone'
        self.client = None
        self.parent = os.getppid()

    @property
    def exit_code(self):
        return {'SIGINT': 130, 'SIGTERM': 143, 'SIGHUP': 129}.get(self.reason, 129)

    def install(self):
        """(Re)installs the handlers; nbclient adds its own per notebook and removes them afterwards."""
        loop = asyncio.get_running_loop()
        for sig in self.SIGNALS:
            try:
                loop.add_signal_handler(sig, self.request, sig.name)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    def check_parent(self):
        if self.reason is None and os.getppid() != self.parent:
            self.request('parent gone')

    def request(self, reason):
        if self.reason is None:
            self.reason = reason
        if reason in ('SIGHUP', 'parent gone'):
            # The terminal (or whoever read our output) is gone: writing to it would fail.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        client = self.client
        if client is not None and client.km is not None:
            asyncio.ensure_future(kill_kernel(client))


async def kill_kernel(client):
    """SIGINT to the kernel first, so that its own handlers run (the slurm sweep engine cancels its job array
    with scancel), then, 2 s later, SIGKILL to its process group: the kernel and the sweep workers it forked."""
    try:
        await client.km.interrupt_kernel()
        await asyncio.sleep(2)
    except Exception:
        pass
    try:
        await client.km.signal_kernel(signal.SIGKILL)
    except Exception:
        pass


STOP = Stop()


class Client(NotebookClient):
    """NotebookClient that tracks the running cell and the time of the last kernel message."""

    def __init__(self, nb, **kw):
        super().__init__(nb, **kw)
        self.cell_index = None  # index in nb.cells of the running (or failing) cell
        self.code_ordinal = 0  # 1-based ordinal among the code cells that run
        self.last_activity = None  # monotonic time; None until the first cell starts
        self.last_reply = None
        self.kernel_process = None

    async def async_start_new_kernel(self, **kw):
        # Replaces nbclient's SIGINT/SIGTERM handlers, which clean up the kernel but let the run go on with
        # the next notebook: the whole run stops, the kernel's process group is killed (nbclient then
        # cleans up as for any dead kernel).
        STOP.install()
        STOP.client = self
        await super().async_start_new_kernel(**kw)
        self.kernel_process = getattr(getattr(self.km, 'provisioner', None), 'process', None)
        if STOP.reason is not None:
            await kill_kernel(self)

    def kernel_signal(self):
        """Name of the signal that ended the kernel process, if one did."""
        proc = self.kernel_process
        rc = None
        if proc is not None:
            rc = proc.returncode if proc.returncode is not None else proc.poll()
        if rc is not None and rc < 0:
            try:
                return signal.Signals(-rc).name
            except ValueError:
                return f'signal {-rc}'
        return None

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == 'code' and cell.source.strip():
            self.cell_index = cell_index
            self.code_ordinal += 1
            self.last_activity = time.monotonic()
            self.last_reply = None
            self.last_line = None
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self.last_reply is not None and self.last_reply['content'].get('status') == 'abort':
            raise CellAborted('the kernel aborted this cell (tslab does that right after a failed cell)')
        return result

    def process_message(self, msg, cell, cell_index):
        self.last_activity = time.monotonic()
        if msg.get('msg_type') == 'stream':
            # The cell's latest progress line (a sweep's '[k/N] ... eta ~...'), shown in the status line.
            lines = [l.strip() for l in ANSI.sub('', msg['content'].get('text', '')).replace('\r', '\n').split('\n') if l.strip()]
            if lines:
                self.last_line = lines[-1]
        return super().process_message(msg, cell, cell_index)


class Progress:
    """One status line: rewritten in place on a terminal, printed per cell (and every minute) otherwise."""

    def __init__(self):
        self.tty = sys.stdout.isatty()
        self.last_text = None
        self.last_print = 0.0

    def update(self, text):
        now = time.monotonic()
        if self.tty:
            sys.stdout.write('\r\x1b[K' + text)
        elif text.split('  elapsed')[0] != (self.last_text or '').split('  elapsed')[0] or now - self.last_print >= 60:
            sys.stdout.write(text + '\n')
            self.last_print = now
        else:
            return
        self.last_text = text
        sys.stdout.flush()

    def done(self, text):
        sys.stdout.write(('\r\x1b[K' if self.tty else '') + text + '\n')
        sys.stdout.flush()
        self.last_text = None


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == 'code' and c.source.strip()]


def cell_error_text(cell, exc):
    parts = []
    for out in cell.get('outputs', []):
        if out.output_type == 'stream' and out.name == 'stderr':
            parts.append(out.text)
        elif out.output_type == 'error':
            parts.append('\n'.join(out.traceback) if out.traceback else f'{out.ename}: {out.evalue}')
    text = KERNEL_FRAME.sub('', ANSI.sub('', ''.join(parts))).rstrip()
    if not text:
        # The kernel sent no diagnostic of its own; fall back to what nbclient or we raised.
        text = str(exc).strip() if not isinstance(exc, CellExecutionError) else 'the cell failed (no error text from the kernel)'
    return text


def backend_of(nb):
    for cell in code_cells(nb):
        for out in cell.get('outputs', []):
            if out.output_type == 'stream' and out.name == 'stdout':
                m = BACKEND_LINE.search(out.text)
                if m:
                    return m.group(1)
    return None


PARAMS_OBJECT = re.compile(r'^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*\{', re.M)
TS_DIAGNOSTIC = re.compile(r'^(\d+):(\d+) - (.*)$', re.M)


class ParameterError(Exception):
    pass


def tagged(cell, tag):
    return tag in cell.get('metadata', {}).get('tags', [])


def ts_literal(value):
    return json.dumps(value, ensure_ascii=False)


def inject_parameters(nb, params, name):
    """Inserts the 'injected-parameters' cell; returns {line number in that cell: parameter name}."""
    nb.cells = [c for c in nb.cells if not tagged(c, 'injected-parameters')]
    idx = [i for i, c in enumerate(nb.cells) if c.cell_type == 'code' and tagged(c, 'parameters')]
    if not idx:
        raise ParameterError(f"notebook {name} has no cell tagged 'parameters', so -p {', '.join(params)} cannot be applied")
    cell = nb.cells[idx[0]]
    m = PARAMS_OBJECT.search(cell.source)
    if not m:
        raise ParameterError(f"notebook {name}: its 'parameters' cell defines no object (expected `const P = {{ ... }}`)")
    obj = m.group(1)
    known = re.findall(r'^\s{2}([A-Za-z_$][\w$]*)\s*:', cell.source, re.M)
    lines = ['// Injected by `npm run reproduce -p` (papermill convention); the kernel checks names and types.',
             f'Object.assign({obj}, {{']
    line_of = {}
    for key, value in params.items():
        lines.append(f'  {key}: {ts_literal(value)},')
        line_of[len(lines)] = key
    lines.append(f'}} satisfies Partial<typeof {obj}>);')
    shown = ', '.join(f'{k}: {obj}.{k}' for k in params)
    lines.append(f"console.log('injected parameters:', JSON.stringify({{ {shown} }}));")
    new = nbformat.v4.new_code_cell('\n'.join(lines), metadata={'tags': ['injected-parameters']})
    new.id = 'injected-parameters'
    nb.cells.insert(idx[0] + 1, new)
    return line_of, known


def parameter_error_text(name, text, line_of, known, params):
    """The kernel's diagnostics of the injected cell, as one line per rejected parameter."""
    out = []
    for m in TS_DIAGNOSTIC.finditer(text):
        line, msg = int(m.group(1)), m.group(3)
        unknown = re.search(r"'([A-Za-z_$][\w$]*)' does not exist in type", msg)
        if unknown:
            key = unknown.group(1)
            hint = re.search(r"Did you mean to write '([^']+)'\?", msg)
            out.append(f"-p {key}: notebook {name} has no parameter '{key}'" + (f" (did you mean '{hint.group(1)}'?)" if hint else '') +
                       f"; its parameters: {', '.join(known) or 'none'}")
        elif line in line_of and 'does not satisfy the expected type' not in msg:
            key = line_of[line]
            out.append(f"-p {key}={json.dumps(params[key])}: wrong type for parameter '{key}' of notebook {name}: {msg}")
    # Diagnostics on other lines (the summary 'does not satisfy', the log line) only repeat these.
    return '\n'.join(dict.fromkeys(out)) if out else f'notebook {name}: the injected parameters cell failed: {text}'


def numbered(source):
    lines = source.splitlines() or ['']
    width = len(str(len(lines)))
    return '\n'.join(f'  {i + 1:>{width}} | {line}' for i, line in enumerate(lines))


async def run_notebook(path, out_path, args, progress, label):
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # not JSON, not a notebook: reported, the other notebooks still run
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return {'cells': 0, 'seconds': 0.0, 'backend': None, 'status': 'failed',
                'error': f'{path.name} is not a valid notebook ({type(e).__name__}: {detail})'}
    entry = {}
    line_of = known = None
    if args.parameters:
        try:
            line_of, known = inject_parameters(nb, args.parameters, path.stem)
        except ParameterError as e:
            return {'cells': len(code_cells(nb)), 'seconds': 0.0, 'backend': None, 'status': 'failed', 'error': str(e),
                    'parameters': args.parameters}
        entry['parameters'] = args.parameters
    total = len(code_cells(nb))
    client = Client(
        nb,
        kernel_name=args.kernel,
        timeout=None,  # the idle watchdog below replaces nbclient's per-cell timeout
        startup_timeout=120,
        resources={'metadata': {'path': str(path.parent)}},
    )
    client.on_cell_executed = lambda cell, cell_index, execute_reply: setattr(client, 'last_reply', execute_reply)
    start = time.monotonic()
    entry['cells'] = total
    task = asyncio.ensure_future(client.async_execute())
    hung = False
    while not task.done():
        await asyncio.wait({task}, timeout=1)
        STOP.check_parent()
        elapsed = time.monotonic() - start
        cell = f'cell {client.code_ordinal}/{total}' if client.code_ordinal else 'starting kernel'
        latest = getattr(client, 'last_line', None)
        shown = f'  · {latest[:100]}' if latest else ''
        progress.update(f'{label}  {cell}  elapsed {elapsed:.1f}s{shown}')
        idle = client.last_activity is not None and time.monotonic() - client.last_activity > args.timeout_idle
        if idle and not hung and not task.done():
            hung = True
            try:
                await client.km.signal_kernel(signal.SIGKILL)
            except Exception:
                task.cancel()

    exc = task.exception() if not task.cancelled() else asyncio.CancelledError()
    STOP.client = None
    entry['seconds'] = round(time.monotonic() - start, 1)
    entry['backend'] = backend_of(nb)
    died = client.kernel_signal()
    if exc is None and STOP.reason is None:
        entry['status'] = 'ok'
    else:
        entry['status'] = 'interrupted' if STOP.reason else 'hung' if hung else 'failed'
        where = f'cell {client.cell_index + 1}' if client.cell_index is not None else 'kernel start-up'
        if STOP.reason:
            entry['signal'] = STOP.reason
            entry['error'] = (f'the run was ended by {STOP.reason} during {where}; kernel and workers killed' if STOP.reason != 'parent gone'
                              else f'the process that started the run is gone (killed?); stopped during {where}; kernel and workers killed')
        elif hung:
            entry['error'] = f'no output for {args.timeout_idle:g} s; kernel killed'
        elif died:
            entry['signal'] = died
            oom = ' (SIGKILL: out of memory, or killed from outside)' if died == 'SIGKILL' else ''
            text = cell_error_text(nb.cells[client.cell_index], exc) if client.cell_index is not None else ''
            entry['error'] = f'the kernel died by {died}{oom} during {where}' + (f'\n{text}' if text and 'no error text' not in text and text != str(exc).strip() else '')
        elif client.cell_index is not None:
            entry['error'] = cell_error_text(nb.cells[client.cell_index], exc)
            if line_of is not None and tagged(nb.cells[client.cell_index], 'injected-parameters'):
                entry['error'] = parameter_error_text(path.stem, entry['error'], line_of, known, args.parameters)
        else:
            entry['error'] = f'{type(exc).__name__}: {exc}'
        if client.cell_index is not None:
            cell = nb.cells[client.cell_index]
            entry['cell'] = client.cell_index + 1
            entry['code_cell'] = client.code_ordinal
            entry['cell_source'] = cell.source
    try:
        write_atomic(out_path, nbformat.writes(nb), f'the executed notebook {out_path.name}')
    except WriteFailed as e:
        itself = f"\n(the notebook itself: {entry['status']}" + (f": {entry['error']}" if 'error' in entry else '') + ')'
        entry['status'] = 'failed'
        entry['error'] = f'{e}{itself}'
        entry['write_failed'] = e
    return entry


class Outputs:
    """Per-notebook files the kernel writes through lib/ (claim results as JSON lines, figure specs), staged
    beside the final ones and moved into place when the notebook has run: an interrupted or failed write
    keeps the previous run's files."""

    def __init__(self, out, name):
        self.claims = out / 'claims' / f'{name}.jsonl'
        self.events = out / 'store' / f'{name}.jsonl'
        self.figures = out / 'figures' / name
        self.staged_claims = self.claims.with_name(f'.{name}.jsonl.partial')
        self.staged_figures = out / 'figures' / f'.{name}.partial'
        self.discard()
        try:
            self.staged_claims.parent.mkdir(parents=True, exist_ok=True)
            self.staged_claims.write_text('')
            self.staged_figures.mkdir(parents=True, exist_ok=True)
            self.events.parent.mkdir(parents=True, exist_ok=True)
            self.events.unlink(missing_ok=True)  # the kernel appends; a notebook without results leaves none
        except OSError as e:
            self.discard()
            raise WriteFailed(f'the claim and figure files of {name}', out, e) from e
        os.environ['TANGENT_CLAIMS_FILE'] = os.path.abspath(self.staged_claims)  # inherited by the kernel started next
        os.environ['TANGENT_FIGURES_DIR'] = os.path.abspath(self.staged_figures)
        os.environ['TANGENT_STORE_EVENTS'] = os.path.abspath(self.events)

    def commit(self):
        try:
            self.figures.mkdir(parents=True, exist_ok=True)
            for old in self.figures.glob('*.json'):
                old.unlink()
            for new in self.staged_figures.glob('*.json'):
                os.replace(new, self.figures / new.name)
            if self.staged_claims.stat().st_size > 0:
                os.replace(self.staged_claims, self.claims)
            else:  # no claims this run: no empty file
                self.claims.unlink(missing_ok=True)
        except OSError as e:
            raise WriteFailed(f'the claim and figure files of {self.figures.name}', self.figures.parent.parent, e) from e
        finally:
            self.discard()

    def discard(self):
        try:
            self.staged_claims.unlink()
        except OSError:
            pass
        shutil.rmtree(self.staged_figures, ignore_errors=True)



def read_json_lines(path):
    records = []
    if not path.exists():
        return records
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            pass
    return records


def read_claims(path):
    return read_json_lines(path)


def store_summary(path):
    """Results the notebook computed and reused, in total and per code fingerprint (lib/run/store-events.ts)."""
    summary = {'computed': 0, 'reused': 0, 'fingerprints': {}}
    for e in read_json_lines(path):
        kind = 'computed' if e.get('event') == 'computed' else 'reused'
        f = summary['fingerprints'].setdefault(e.get('fingerprint', '?'), {'computed': 0, 'reused': 0, 'tasks': []})
        what = e.get('task') or f"{e.get('experiment')} (closure)"
        if what not in f['tasks']:
            f['tasks'].append(what)
        summary[kind] += 1
        f[kind] += 1
    return summary


def short_fingerprint(fp):
    return fp.split(':', 1)[-1][:8]


def report_failure(name, entry, total):
    where = f", cell {entry['cell']} (code cell {entry['code_cell']}/{total})" if 'cell' in entry else ''
    lines = [f"\n{entry['status'].upper()}: {name}{where}"]
    if 'cell_source' in entry:
        lines += ['--- cell source', numbered(entry['cell_source'])]
    lines += ['--- error', entry['error'], '---', '']
    sys.stdout.write('\n'.join(lines) + '\n')
    sys.stdout.flush()


def summary(results):
    width = max([len('notebook')] + [len(n) for n in results])
    rows = [f"{'notebook':<{width}}  {'status':<7} {'time':>8}  {'claims':<8}  {'results':<22}  where"]
    for name, e in results.items():
        where = f"cell {e['cell']}" if 'cell' in e and e['status'] != 'ok' else ''
        cl = e.get('claims', [])
        cl = [c for c in cl if c.get('kind') != 'not-attempted']
        claims = f"{sum(c.get('pass') is True for c in cl)}/{len(cl)}" if cl else '-'
        st = e.get('store') or {}
        stored = f"{st['computed']} computed {st['reused']} reused" if st.get('computed') or st.get('reused') else '-'
        rows.append(f"{name:<{width}}  {e['status']:<7} {e['seconds']:>7.1f}s  {claims:<8}  {stored:<22}  {where}".rstrip())
    return '\n'.join(rows)


def read_run_json(path):
    """The records of earlier runs; a damaged run.json is moved aside (with a warning), never overwritten."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
        if not isinstance(data, dict) or not isinstance(data.get('notebooks', {}), dict):
            raise ValueError('not an object with a "notebooks" object')
        return data
    except (OSError, ValueError) as e:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
        aside = path.with_name(f'{path.name}.damaged-{stamp}')
        try:
            os.replace(path, aside)
            kept = f'kept as {aside}'
        except OSError as e2:
            kept = f'could not be moved aside ({e2.strerror})'
        print(f'WARNING: {path} is damaged ({type(e).__name__}: {e}); {kept}; '
              'run.json now records only the notebooks of this run', flush=True)
        return {}


def write_run_json(path, results, args):
    """Merges this run's notebooks into run.json, so that an --only run keeps the others' records."""
    data = read_run_json(path)
    notebooks = data.get('notebooks', {})
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
    for name, e in results.items():
        notebooks[name] = {'status': e['status'], 'seconds': e['seconds'], 'profile': args.profile,
                           'backend': e.get('backend'), 'engine': os.environ.get('TANGENT_ENGINE') or 'local', 'finished': now,
                           'notebook': e['notebook'], 'output': e['output'], 'claims': e.get('claims', []),
                           'store': e.get('store', {'computed': 0, 'reused': 0, 'fingerprints': {}}),
                           **{k: e[k] for k in ('parameters', 'cell', 'code_cell', 'error', 'signal') if k in e}}
    data = {'updated': now, 'kernel': args.kernel, 'notebooks': dict(sorted(notebooks.items()))}
    write_atomic(path, json.dumps(data, indent=2) + '\n', 'run.json')


def positive_seconds(text):
    """--timeout-idle: a positive finite number of seconds (float() also takes 'nan', 'inf' and negatives)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive finite number of seconds (e.g. 600)")
    return value


def parameters_json(text):
    """--parameters: a JSON object of identifier names to finite JSON values (Python's json takes NaN,
    Infinity and 1e400 = inf, which the notebook would receive as something else)."""
    def refuse(constant):
        raise ValueError(f'{constant} is not a finite number')

    def finite(number):
        value = float(number)
        if not math.isfinite(value):
            raise ValueError(f'{number} is not a finite number')
        return value

    try:
        value = json.loads(text, parse_constant=refuse, parse_float=finite)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f'{text}: {e}') from e
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f'{text}: expected a JSON object {{"name": value}}')
    bad = [k for k in value if not re.fullmatch(r'[A-Za-z_$][\w$]*', k) or k == '__proto__']
    if bad:
        raise argparse.ArgumentTypeError(f"{text}: {', '.join(map(repr, bad))} is not a parameter name (an identifier)")
    return value


async def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='output folder (executed notebooks, run.json)')
    p.add_argument('--kernel', default='tangent-lab')
    p.add_argument('--profile', default='paper', choices=['quick', 'paper'])
    p.add_argument('--timeout-idle', type=positive_seconds, default=1800)
    p.add_argument('--parameters', type=parameters_json, default={}, help='JSON object of parameter overrides (papermill convention)')
    args = p.parse_args()

    os.environ['TANGENT_PROFILE'] = args.profile  # inherited by every kernel
    STOP.install()
    progress = Progress()
    results = {}
    write_failure = None
    n = len(args.notebooks)
    print(f'running {n} notebook(s), profile {args.profile}, kernel {args.kernel}, output {args.out}', flush=True)
    if args.parameters:
        print(f"parameters: {', '.join(f'{k}={json.dumps(v)}' for k, v in args.parameters.items())}", flush=True)
    try:
        for i, path in enumerate(args.notebooks, 1):
            STOP.check_parent()
            if STOP.reason:
                break
            name = path.stem
            out_path = args.out / 'notebooks' / path.name
            label = f'[{i}/{n}] {name}'
            outputs = Outputs(args.out, name)
            try:
                entry = await run_notebook(path.resolve(), out_path, args, progress, label)
                entry['claims'] = read_claims(outputs.staged_claims)
                entry['store'] = store_summary(outputs.events)
                if 'write_failed' not in entry:
                    outputs.commit()
            finally:
                outputs.discard()
                STOP.install()
            entry['notebook'] = str(path)
            entry['output'] = f'notebooks/{path.name}'
            results[name] = entry
            st = entry.get('store', {'computed': 0, 'reused': 0, 'fingerprints': {}})
            fps = ', '.join(short_fingerprint(f) for f in st['fingerprints'])
            stored = f"  results: {st['computed']} computed, {st['reused']} reused (code {fps})" if fps else ''
            progress.done(f"{label}  {entry['status']}  {entry['seconds']:.1f}s{stored}")
            if entry['status'] != 'ok':
                report_failure(name, entry, entry['cells'])
            if 'write_failed' in entry:
                raise entry.pop('write_failed')
    except WriteFailed as e:
        write_failure = e
    except (KeyboardInterrupt, asyncio.CancelledError):
        STOP.request('SIGINT')
    if STOP.reason:
        progress.done(f'interrupted ({STOP.reason})')
    if results:
        try:
            write_run_json(args.out / 'run.json', results, args)
        except WriteFailed as e:
            write_failure = write_failure or e
        print('\n' + summary(results), flush=True)
    if write_failure:
        print(f'\nreproduce: {write_failure}. Free space there (or choose another --out), then rerun.', flush=True)
        return 1
    if STOP.reason:
        return STOP.exit_code
    bad = [name for name, e in results.items() if e['status'] != 'ok']
    failed_claims = [(name, c) for name, e in results.items() for c in e.get('claims', []) if c.get('kind') != 'not-attempted' and c.get('pass') is not True]
    for name, c in failed_claims:
        print(f"FAILED CLAIM {name}: {c.get('paper')} {c.get('figure')}: {c.get('claim')} ({c.get('quantity')} = {c.get('measured')})", flush=True)
    if bad:
        print(f"\n{len(bad)} of {n} notebook(s) did not complete: {', '.join(bad)}", flush=True)
        return 1
    if failed_claims:
        print(f"\n{len(failed_claims)} claim check(s) failed", flush=True)
        return 1
    print(f'\nall {n} notebook(s) ok; executed copies in {args.out / "notebooks"}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
