// The node's pod network, from its spec.podCIDR: the CNI conflist its containerd reads (bridge
// with a gateway, masquerade and hairpin, host-local addresses from the podCIDR in a data dir of
// the node's own, portmap for hostPorts, loopback), one nat rule that keeps pod-to-pod traffic
// inside the cluster CIDR unmasqueraded, and the sink: the cluster CIDR and the service CIDR
// routed to a local device that drops what it is sent, so an address that no pod or Service
// holds is dropped on this machine instead of leaving by the default route. The pod /24 on the
// bridge is more specific than the sink's routes, and locally sent traffic to a Service address
// still passes the nat OUTPUT hook (the route lookup finds the sink, DNAT then reroutes), which a
// blackhole route would not allow. Every piece is removed by tearDownNodeNetwork.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** NodeNetwork names the node's network pieces; each name is the node's own (two clusters on one machine never share one). */
export interface NodeNetwork {
  /** name is the CNI network's name; CNI's iptables chains carry it in their comments. */
  name: string;
  /** bridge is the Linux bridge the pods' veths join (at most 15 bytes). */
  bridge: string;
  /** sink is the device the cluster and service CIDRs are routed to (at most 15 bytes). */
  sink: string;
  clusterCIDR: string;
  serviceCIDR: string;
  /** ipamDataDir is host-local's store of allocated addresses. */
  ipamDataDir: string;
}

/** ConflistFileName is the conflist's name in the CNI conf dir (containerd reads the first one). */
export const ConflistFileName = '10-skiff.conflist';

/** cniConflist is the CNI network configuration list for a node with podCIDR. */
export function cniConflist(net: NodeNetwork, podCIDR: string): object {
  return {
    cniVersion: '0.4.0',
    name: net.name,
    plugins: [
      {
        type: 'bridge',
        bridge: net.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: net.ipamDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  };
}

/** writeCniConflist writes the conflist into confDir atomically (containerd watches the dir). */
export function writeCniConflist(confDir: string, net: NodeNetwork, podCIDR: string): string {
  mkdirSync(confDir, { recursive: true });
  mkdirSync(net.ipamDataDir, { recursive: true });
  const path = join(confDir, ConflistFileName);
  // The temporary name must not end in .conflist, or containerd may read it half written.
  writeFileSync(`${path}.tmp`, JSON.stringify(cniConflist(net, podCIDR), null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
  return path;
}

/** masqueradeExceptionRule is the nat POSTROUTING rule (iptables argument list, without -A/-I/-D) keeping pod-to-pod traffic unmasqueraded. */
export function masqueradeExceptionRule(net: NodeNetwork): string[] {
  return ['-s', net.clusterCIDR, '-d', net.clusterCIDR, '-m', 'comment', '--comment', `skiff ${net.name}: pod to pod, not masqueraded`, '-j', 'RETURN'];
}

/** NetworkError is a network step that failed. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { timeout: 30_000 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new NetworkError(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

async function linkExists(name: string): Promise<boolean> {
  return run('ip', ['link', 'show', 'dev', name]).then(
    () => true,
    () => false,
  );
}

/**
 * setUpSink creates the sink device (a dummy, as kube-proxy's kube-ipvs0; where the kernel has no
 * dummy driver, an ifb, which drops what is not redirected to it) and routes the cluster and
 * service CIDRs to it. Idempotent.
 */
export async function setUpSink(net: NodeNetwork): Promise<void> {
  if (!(await linkExists(net.sink))) {
    try {
      await sh('ip', ['link', 'add', net.sink, 'type', 'dummy']);
    } catch {
      await sh('ip', ['link', 'add', net.sink, 'type', 'ifb']);
    }
  }
  await sh('ip', ['link', 'set', net.sink, 'up']);
  for (const cidr of [net.clusterCIDR, net.serviceCIDR]) await sh('ip', ['route', 'replace', cidr, 'dev', net.sink]);
}

/**
 * exceptionPosition is the rule number at which the pod-to-pod RETURN goes into nat POSTROUTING
 * (given `iptables -t nat -S POSTROUTING`): just below kube-proxy's KUBE-POSTROUTING jump when
 * there is one, so Service traffic marked for masquerade (a pod reaching itself through its
 * Service) is still masqueraded; otherwise first, above the bridge plugin's per-pod rules. A
 * proxy that starts later prepends its jump above it.
 */
export function exceptionPosition(postrouting: string): number {
  const rules = postrouting.split('\n').filter((l) => l.startsWith('-A POSTROUTING '));
  const jump = rules.findIndex((l) => / -j KUBE-POSTROUTING(\s|$)/.test(l));
  return jump >= 0 ? jump + 2 : 1;
}

/** ensureMasqueradeException inserts the pod-to-pod RETURN rule into nat POSTROUTING, once. */
export async function ensureMasqueradeException(net: NodeNetwork): Promise<void> {
  const rule = masqueradeExceptionRule(net);
  const present = await run('iptables', ['-w', '-t', 'nat', '-C', 'POSTROUTING', ...rule]).then(
    () => true,
    () => false,
  );
  if (present) return;
  const position = exceptionPosition(await sh('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING']));
  await sh('iptables', ['-w', '-t', 'nat', '-I', 'POSTROUTING', String(position), ...rule]);
}

/** setUpNodeNetwork writes the conflist for podCIDR and sets up the sink and the masquerade exception. */
export async function setUpNodeNetwork(confDir: string, net: NodeNetwork, podCIDR: string): Promise<void> {
  await setUpSink(net);
  await ensureMasqueradeException(net);
  writeCniConflist(confDir, net, podCIDR);
}

/**
 * cniRulesOf parses `iptables-save -t nat` and returns the rules (as -A argument strings) whose
 * comment names the CNI network, and the chains they jump to that are CNI's per-pod chains.
 */
export function cniRulesOf(natSave: string, networkName: string): { rules: string[]; chains: string[] } {
  const mark = `name: \\"${networkName}\\"`;
  const rules: string[] = [];
  const chains = new Set<string>();
  for (const line of natSave.split('\n')) {
    if (!line.startsWith('-A ') || !line.includes(mark)) continue;
    rules.push(line.slice(3));
    const jump = / -j (CNI-[A-Za-z0-9-]+)/.exec(line)?.[1];
    // The shared CNI-HOSTPORT-* chains serve every network on the machine: never ours to remove.
    if (jump && !jump.startsWith('CNI-HOSTPORT-')) chains.add(jump);
  }
  return { rules, chains: [...chains] };
}

/** splitRule splits an iptables-save rule into arguments, honouring double quotes. */
export function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/**
 * tearDownNodeNetwork removes everything of the node's network: the conflist, the CNI rules and
 * chains of its pods that were never torn down by CNI DEL, the masquerade exception, the sink
 * (its routes go with it), the bridge and host-local's data. Safe to repeat.
 */
export async function tearDownNodeNetwork(confDir: string, net: NodeNetwork): Promise<void> {
  rmSync(join(confDir, ConflistFileName), { force: true });
  const save = await sh('iptables-save', ['-t', 'nat']).catch(() => '');
  const { rules, chains } = cniRulesOf(save, net.name);
  for (const rule of rules) {
    const args = splitRule(rule);
    await run('iptables', ['-w', '-t', 'nat', '-D', ...args]).catch(() => undefined);
  }
  for (const chain of chains) {
    await run('iptables', ['-w', '-t', 'nat', '-F', chain]).catch(() => undefined);
    await run('iptables', ['-w', '-t', 'nat', '-X', chain]).catch(() => undefined);
  }
  const rule = masqueradeExceptionRule(net);
  while (await run('iptables', ['-w', '-t', 'nat', '-D', 'POSTROUTING', ...rule]).then(() => true, () => false));
  for (const link of [net.sink, net.bridge]) if (await linkExists(link)) await sh('ip', ['link', 'del', link]);
  if (existsSync(net.ipamDataDir)) {
    for (const f of readdirSync(net.ipamDataDir)) rmSync(join(net.ipamDataDir, f), { recursive: true, force: true });
  }
}
