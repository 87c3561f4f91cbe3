// Drives the project kernel the way JupyterLab does: jupyter_server's kernel manager starts the private
// kernelspec for a notebook path under the server's root folder, so the kernel's cwd is the notebook's folder;
// then execute / inspect / complete requests go over the real Jupyter protocol (jupyter_client).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jupyterPython, root, run } from './kernel-support.js';

export type KernelRequest =
  | { type: 'execute'; code: string }
  | { type: 'inspect'; code: string; cursor_pos: number; detail_level?: number }
  | { type: 'complete'; code: string; cursor_pos: number };

export interface KernelReply {
  /** The shell reply's content (status, found/data for inspect, matches/metadata for complete). */
  content: Record<string, unknown> & { status: string };
  /** Text of the iopub stdout and stderr streams of an execute request. */
  stdout: string;
  stderr: string;
}

const DRIVER = String.raw`
import asyncio, json, os, sys
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

async def main():
    spec = json.load(sys.stdin)
    km = AsyncMappingKernelManager(root_dir=spec['root_dir'])
    kid = await km.start_kernel(kernel_name='tangent-lab', path=spec['path'])
    kc = km.get_kernel(kid).client()
    kc.start_channels()
    out = []
    try:
        await kc.wait_for_ready(timeout=120)
        for req in spec['requests']:
            if req['type'] == 'execute':
                msg_id = kc.execute(req['code'])
            elif req['type'] == 'inspect':
                msg_id = kc.inspect(req['code'], req['cursor_pos'], req.get('detail_level', 0))
            else:
                msg_id = kc.complete(req['code'], req['cursor_pos'])
            reply = await kc._async_get_shell_msg(timeout=180)
            while reply['parent_header'].get('msg_id') != msg_id:
                reply = await kc._async_get_shell_msg(timeout=180)
            streams = {'stdout': '', 'stderr': ''}
            if req['type'] == 'execute':
                while True:
                    m = await kc._async_get_iopub_msg(timeout=180)
                    if m['parent_header'].get('msg_id') != msg_id:
                        continue
                    if m['msg_type'] == 'stream':
                        streams[m['content']['name']] += m['content']['text']
                    if m['msg_type'] == 'status' and m['content']['execution_state'] == 'idle':
                        break
                # tslab answers 'abort' to requests within 200 ms of a failed cell (environment.md)
                if reply['content']['status'] != 'ok':
                    await asyncio.sleep(0.5)
            out.append({'content': reply['content'], **streams})
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(kid, now=True)
    with open(spec['out'], 'w') as f:
        json.dump(out, f)

asyncio.run(main())
`;

/**
 * Starts the project kernel for a notebook in `folder` (`rootDir`: the server's root, `folder` relative to it
 * or equal), runs the requests in order and shuts it down.
 */
export async function kernelSession(rootDir: string, folder: string, requests: KernelRequest[]): Promise<KernelReply[]> {
  const python = await jupyterPython(['jupyter_server', 'jupyter_client']);
  const { privateKernelEnv } = (await import(pathToFileURL(join(root, 'scripts', 'kernel-install.mjs')).href)) as {
    privateKernelEnv(root?: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  };
  // The replies go to a file: the driver's stdout also carries whatever the server and kernel print.
  const dir = mkdtempSync(join(tmpdir(), 'tangent-kernel-driver-'));
  try {
    const out = join(dir, 'replies.json');
    const input = JSON.stringify({ root_dir: rootDir, path: folder, requests, out });
    const r = await run(python, ['-c', DRIVER], { env: privateKernelEnv(root, process.env), input });
    if (r.code !== 0 || !existsSync(out)) throw new Error(`kernel driver failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(readFileSync(out, 'utf8')) as KernelReply[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

