// Issue 30 §5: `node scripts/slurm-local.mjs start` listened on every interface though the README says loopback.
// The daemons now bind to what their host name resolves to (CommunicationParameters=NoCtldInAddrAny,NoInAddrAny)
// with the host name localhost in a UTS namespace of their own; the start refuses any other listening address.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { projectRoot } from '../lib/core/env.js';

type LocalSlurmModule = typeof import('../scripts/slurm-local.mjs');
const load = async () => (await import(pathToFileURL(join(projectRoot(), 'scripts', 'slurm-local.mjs')).href)) as LocalSlurmModule;
const dir = mkdtempSync(join(tmpdir(), 'tangent-slurm-loopback-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('slurm-local listens on loopback only', () => {
  test('listening addresses are read from /proc/net/tcp and tcp6', async () => {
    const { listeningAddresses } = await load();
    const tcp = '  sl  local_address rem_address st\n   0: 00000000:1A85 00000000:0000 0A 0\n   1: 0100007F:1A86 00000000:0000 0A 0\n   2: 0100007F:1A85 0100007F:9999 01 0\n';
    const tcp6 = '  sl  local_address\n   0: 00000000000000000000000001000000:1A86 00000000000000000000000000000000:0000 0A 0\n';
    assert.deepEqual(listeningAddresses(0x1a85, [tcp, tcp6]), ['0.0.0.0']);
    assert.deepEqual(listeningAddresses(0x1a86, [tcp, tcp6]), ['127.0.0.1', '0000:0000:0000:0000:0000:0000:0000:0001']);
    assert.deepEqual(listeningAddresses(0x1a87, [tcp, tcp6]), []);
  });

  const installed = process.getuid?.() === 0 && existsSync('/usr/sbin/slurmctld') && existsSync('/usr/sbin/slurmd') && existsSync('/usr/sbin/munged');
  test('a started cluster listens on 127.0.0.1 only', { skip: !installed && 'needs root and an installed slurm-wlm and munge (test/slurm.test.ts installs them)' }, async () => {
    const slurm = await load();
    const cluster = await slurm.startLocalSlurm({ dir: join(dir, 'cluster'), log: () => undefined });
    try {
      assert.match(readFileSync(cluster.conf, 'utf8'), /^CommunicationParameters=NoCtldInAddrAny,NoInAddrAny$/m);
      for (const port of [cluster.ports.ctld, cluster.ports.slurmd]) assert.deepEqual(slurm.listeningAddresses(port), ['127.0.0.1'], `port ${port}`);
    } finally {
      await cluster.stop();
    }
  });
});
