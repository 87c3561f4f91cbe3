"""Executes notebooks headlessly with nbclient, one fresh kernel each (driven by scripts/reproduce.mjs).

A notebook stops at its first failing cell. tslab reports a failure (type error or exception) as an
execute_reply with status 'error' but without ename/evalue/traceback; the diagnostic arrives as a
stderr stream, so the error text is taken from the cell's outputs. tslab also answers 'abort' to
requests that arrive within 200 ms of a failure; an aborted cell counts as failed too.

A notebook that produces no kernel message for --timeout-idle seconds is reported as hung and its
kernel killed.
"""
import argparse
import asyncio
import datetime
import json
import os
import re
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


class Interrupted(Exception):
    pass


class Client(NotebookClient):
    """NotebookClient that tracks the running cell and the time of the last kernel message."""

    def __init__(self, nb, **kw):
        super().__init__(nb, **kw)
        self.cell_index = None  # index in nb.cells of the running (or failing) cell
        self.code_ordinal = 0  # 1-based ordinal among the code cells that run
        self.last_activity = None  # monotonic time; None until the first cell starts
        self.last_reply = None
        self.interrupted = False

    async def async_start_new_kernel(self, **kw):
        # Replaces nbclient's SIGINT handler, which cleans up the kernel but lets the run go on with the
        # next notebook: record the interrupt so that the whole run stops, and kill the kernel (nbclient
        # then cleans up as for any dead kernel).
        def on_signal():
            self.interrupted = True
            if self.km is not None:
                asyncio.ensure_future(stop_kernel())

        # SIGINT first, so that the kernel's own handlers run (the slurm sweep engine cancels its job
        # array with scancel), then SIGKILL.
        async def stop_kernel():
            try:
                await self.km.signal_kernel(signal.SIGINT)
                await asyncio.sleep(2)
            except Exception:
                pass
            try:
                await self.km.signal_kernel(signal.SIGKILL)
            except Exception:
                pass

        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_signal)
        except (NotImplementedError, RuntimeError):
            pass
        await super().async_start_new_kernel(**kw)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == 'code' and cell.source.strip():
            self.cell_index = cell_index
            self.code_ordinal += 1
            self.last_activity = time.monotonic()
            self.last_reply = None
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self.last_reply is not None and self.last_reply['content'].get('status') == 'abort':
            raise CellAborted('the kernel aborted this cell (tslab does that right after a failed cell)')
        return result

    def process_message(self, msg, cell, cell_index):
        self.last_activity = time.monotonic()
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


def numbered(source):
    lines = source.splitlines() or ['']
    width = len(str(len(lines)))
    return '\n'.join(f'  {i + 1:>{width}} | {line}' for i, line in enumerate(lines))


async def run_notebook(path, out_path, args, progress, label):
    nb = nbformat.read(path, as_version=4)
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
    entry = {'cells': total}
    task = asyncio.ensure_future(client.async_execute())
    hung = False
    while not task.done():
        await asyncio.wait({task}, timeout=1)
        elapsed = time.monotonic() - start
        cell = f'cell {client.code_ordinal}/{total}' if client.code_ordinal else 'starting kernel'
        progress.update(f'{label}  {cell}  elapsed {elapsed:.1f}s')
        idle = client.last_activity is not None and time.monotonic() - client.last_activity > args.timeout_idle
        if idle and not hung and not task.done():
            hung = True
            try:
                await client.km.signal_kernel(signal.SIGKILL)
            except Exception:
                task.cancel()

    exc = task.exception() if not task.cancelled() else asyncio.CancelledError()
    entry['seconds'] = round(time.monotonic() - start, 1)
    entry['backend'] = backend_of(nb)
    if client.interrupted:
        raise Interrupted()
    if exc is None:
        entry['status'] = 'ok'
    else:
        entry['status'] = 'hung' if hung else 'failed'
        if client.cell_index is not None:
            cell = nb.cells[client.cell_index]
            entry['cell'] = client.cell_index + 1
            entry['code_cell'] = client.code_ordinal
            entry['cell_source'] = cell.source
            if hung:
                entry['error'] = f'no output for {args.timeout_idle:g} s; kernel killed'
            else:
                entry['error'] = cell_error_text(cell, exc)
        else:
            entry['error'] = f'{type(exc).__name__}: {exc}'
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_path)
    return entry


def prepare_outputs(out, name):
    """Per-notebook files the kernel writes through lib/: claim results (JSON lines) and figure specs."""
    claims = out / 'claims' / f'{name}.jsonl'
    figures = out / 'figures' / name
    claims.parent.mkdir(parents=True, exist_ok=True)
    claims.write_text('')
    figures.mkdir(parents=True, exist_ok=True)
    for old in figures.glob('*.json'):
        old.unlink()
    os.environ['TANGENT_CLAIMS_FILE'] = str(claims.resolve())  # inherited by the kernel started next
    os.environ['TANGENT_FIGURES_DIR'] = str(figures.resolve())
    return claims


def read_claims(path):
    claims = []
    for line in path.read_text().splitlines():
        try:
            claims.append(json.loads(line))
        except ValueError:
            pass
    return claims


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
    rows = [f"{'notebook':<{width}}  {'status':<7} {'time':>8}  {'claims':<8}  where"]
    for name, e in results.items():
        where = f"cell {e['cell']}" if 'cell' in e and e['status'] != 'ok' else ''
        cl = e.get('claims', [])
        claims = f"{sum(c.get('pass') is True for c in cl)}/{len(cl)}" if cl else '-'
        rows.append(f"{name:<{width}}  {e['status']:<7} {e['seconds']:>7.1f}s  {claims:<8}  {where}".rstrip())
    return '\n'.join(rows)


def write_run_json(path, results, args):
    """Merges this run's notebooks into run.json, so that an --only run keeps the others' records."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    notebooks = data.get('notebooks', {}) if isinstance(data.get('notebooks'), dict) else {}
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
    for name, e in results.items():
        notebooks[name] = {'status': e['status'], 'seconds': e['seconds'], 'profile': args.profile,
                           'backend': e.get('backend'), 'engine': os.environ.get('TANGENT_ENGINE') or 'local', 'finished': now,
                           'notebook': e['notebook'], 'output': e['output'], 'claims': e.get('claims', []),
                           **{k: e[k] for k in ('cell', 'code_cell', 'error') if k in e}}
    data = {'updated': now, 'kernel': args.kernel, 'notebooks': dict(sorted(notebooks.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + '\n')


async def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='output folder (executed notebooks, run.json)')
    p.add_argument('--kernel', default='tangent-lab')
    p.add_argument('--profile', default='paper', choices=['quick', 'paper'])
    p.add_argument('--timeout-idle', type=float, default=1800)
    args = p.parse_args()

    os.environ['TANGENT_PROFILE'] = args.profile  # inherited by every kernel
    progress = Progress()
    results = {}
    interrupted = False
    n = len(args.notebooks)
    print(f'running {n} notebook(s), profile {args.profile}, kernel {args.kernel}, output {args.out}', flush=True)
    try:
        for i, path in enumerate(args.notebooks, 1):
            name = path.stem
            out_path = args.out / 'notebooks' / path.name
            label = f'[{i}/{n}] {name}'
            claims_file = prepare_outputs(args.out, name)
            entry = await run_notebook(path.resolve(), out_path, args, progress, label)
            entry['claims'] = read_claims(claims_file)
            entry['notebook'] = str(path)
            entry['output'] = f'notebooks/{path.name}'
            results[name] = entry
            progress.done(f"{label}  {entry['status']}  {entry['seconds']:.1f}s")
            if entry['status'] != 'ok':
                report_failure(name, entry, entry['cells'])
    except (Interrupted, KeyboardInterrupt, asyncio.CancelledError):
        interrupted = True
        progress.done('interrupted')
    if results:
        write_run_json(args.out / 'run.json', results, args)
        print('\n' + summary(results), flush=True)
    if interrupted:
        return 130
    bad = [name for name, e in results.items() if e['status'] != 'ok']
    failed_claims = [(name, c) for name, e in results.items() for c in e.get('claims', []) if c.get('pass') is not True]
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
