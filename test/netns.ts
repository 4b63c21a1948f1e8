// A small lab of network namespaces for the proxy's end-to-end test and benchmark: a "node"
// namespace with a bridge, backend and client namespaces on veths, tiny TCP/UDP servers that
// answer with their name and the client address they saw, and a cleanup that removes every
// namespace and process it made (registered before creation, so a failing test cleans up too).
// Names start with `skx` and addresses are in 10.245.0.0/16 (the proxy helper's ranges).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** sh runs a command and throws with its stderr when it fails. */
export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** inNs runs a command inside a network namespace (nsenter keeps /sys and cgroups as they are). */
export function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return sh('nsenter', [`--net=/var/run/netns/${ns}`, cmd, ...args], input);
}

const serverScript = `
const net = require('node:net'); const dgram = require('node:dgram');
const [name, port] = process.argv.slice(2);
let up = 0; const ready = () => { if (++up === 2) process.stdout.write('ready\\n'); };
net.createServer((s) => { s.on('error', () => {}); s.end(name + ' ' + s.remoteAddress.replace('::ffff:', '') + '\\n'); }).listen(Number(port), '0.0.0.0', ready);
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(name + ' ' + r.address + '\\n', r.port, r.address)); u.bind(Number(port), '0.0.0.0', ready);
`;

const clientScript = `
const net = require('node:net'); const dgram = require('node:dgram');
const [host, port, proto, count] = process.argv.slice(2);
function tcp() { return new Promise((res) => { let out = ''; const s = net.connect({ host, port: Number(port) });
  const t = setTimeout(() => { s.destroy(); res('TIMEOUT'); }, 3000);
  s.on('data', (d) => (out += d)); s.on('end', () => { clearTimeout(t); res(out.trim()); }); s.on('error', (e) => { clearTimeout(t); res(e.code); }); }); }
function udp() { return new Promise((res) => { const s = dgram.createSocket('udp4');
  const t = setTimeout(() => { s.close(); res('TIMEOUT'); }, 1500);
  s.on('message', (m) => { clearTimeout(t); s.close(); res(String(m).trim()); }); s.on('error', (e) => { clearTimeout(t); s.close(); res(e.code); });
  s.send('hi', Number(port), host); }); }
(async () => { const out = []; for (let i = 0; i < Number(count); i++) out.push(await (proto === 'udp' ? udp() : tcp())); process.stdout.write(JSON.stringify(out)); })();
`;

/** Lab is one test's namespaces. */
export class Lab {
  readonly id = randomBytes(2).toString('hex');
  readonly node = `skx${this.id}-node`;
  readonly bridge = `skx${this.id}br`;
  readonly dir = mkdtempSync(join(tmpdir(), 'skx-'));
  private readonly namespaces: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private links = 0;

  constructor() {
    writeFileSync(join(this.dir, 'server.cjs'), serverScript);
    writeFileSync(join(this.dir, 'client.cjs'), clientScript);
  }

  /** addNs creates a namespace with lo up, registered for cleanup first. */
  addNs(ns: string): void {
    this.namespaces.push(ns);
    sh('ip', ['netns', 'add', ns]);
    inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
  }

  /**
   * setupNode makes the node namespace: a bridge holding nodeIP/24 (the pods' gateway), IP
   * forwarding, and the service CIDR routed onto the bridge so node-local traffic to a ClusterIP
   * has a route (the nat OUTPUT rules then DNAT it; without a rule it is never answered). The
   * kernel here has no dummy device module.
   */
  setupNode(nodeIP: string, serviceCIDR: string): void {
    this.addNs(this.node);
    const n = (...a: string[]) => inNs(this.node, 'ip', a);
    n('link', 'add', this.bridge, 'type', 'bridge');
    n('addr', 'add', `${nodeIP}/24`, 'dev', this.bridge);
    n('link', 'set', this.bridge, 'up');
    n('route', 'add', serviceCIDR, 'dev', this.bridge);
    inNs(this.node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    // Pod → ClusterIP goes back out of the bridge it came in on; ICMP redirects for it would
    // use up the per-host ICMP budget that a REJECT's port-unreachable needs.
    inNs(this.node, 'sysctl', ['-qw', 'net.ipv4.conf.all.send_redirects=0']);
    inNs(this.node, 'sysctl', ['-qw', `net.ipv4.conf.${this.bridge}.send_redirects=0`]);
  }

  /** addPod puts a namespace on the bridge with ip/24 and a default route via gw (hairpin on). */
  addPod(ns: string, ip: string, gw: string): void {
    this.addNs(ns);
    const host = `skx${this.id}v${this.links++}`;
    inNs(this.node, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `/var/run/netns/${ns}`]);
    inNs(this.node, 'ip', ['link', 'set', host, 'master', this.bridge, 'up']);
    inNs(this.node, 'ip', ['link', 'set', host, 'type', 'bridge_slave', 'hairpin', 'on']);
    inNs(ns, 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    inNs(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    inNs(ns, 'ip', ['route', 'add', 'default', 'via', gw]);
  }

  /** addRouted puts a namespace on a /30 of its own to the node (a client outside the pod network). */
  addRouted(ns: string, nodeSide: string, ip: string): void {
    this.addNs(ns);
    const host = `skx${this.id}v${this.links++}`;
    inNs(this.node, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `/var/run/netns/${ns}`]);
    inNs(this.node, 'ip', ['addr', 'add', `${nodeSide}/30`, 'dev', host]);
    inNs(this.node, 'ip', ['link', 'set', host, 'up']);
    inNs(ns, 'ip', ['addr', 'add', `${ip}/30`, 'dev', 'eth0']);
    inNs(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    inNs(ns, 'ip', ['route', 'add', 'default', 'via', nodeSide]);
  }

  /** serve starts a TCP+UDP server on port in ns answering "<name> <client address>". */
  async serve(ns: string, name: string, port: number): Promise<void> {
    const p = spawn('nsenter', [`--net=/var/run/netns/${ns}`, process.execPath, join(this.dir, 'server.cjs'), name, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.procs.push(p);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      p.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('ready')) resolve();
      });
      p.on('exit', (code) => reject(new Error(`server ${name} exited ${code}`)));
    });
  }

  /** spawnIn starts a long-running process in ns, killed at cleanup. */
  spawnIn(ns: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const p = spawn('nsenter', [`--net=/var/run/netns/${ns}`, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    this.procs.push(p);
    return p;
  }

  /**
   * connect makes count connections (new socket each) from ns to host:port and returns what each
   * answered: "<backend> <address it saw>", or an error code (ECONNREFUSED, TIMEOUT).
   */
  connect(ns: string, host: string, port: number, proto: 'tcp' | 'udp', count: number): string[] {
    return JSON.parse(inNs(ns, process.execPath, [join(this.dir, 'client.cjs'), host, String(port), proto, String(count)])) as string[];
  }

  /** cleanup kills every process and deletes every namespace this lab made; safe to call twice. */
  cleanup(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    this.namespaces.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * bridgeLoopbackPort makes a port of the host's loopback (a test apiserver) reachable at the same
 * address inside lab's node namespace: a forwarder there listens on 127.0.0.1:<port> and pipes
 * each connection through a unix socket to the test process, which connects to the host's port.
 * It resolves, once the forwarder listens, to the host side's server (close it in the test's after).
 */
export async function bridgeLoopbackPort(lab: Lab, port: number): Promise<Server> {
  const sock = join(lab.dir, 'api.sock');
  const forward = createNetServer((c) => {
    const up = netConnect(port, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  }).listen(sock);
  const fwd = join(lab.dir, 'fwd.cjs');
  writeFileSync(fwd, `const net = require('node:net'); net.createServer((c) => { const u = net.connect(${JSON.stringify(sock)}); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); }).listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`);
  const p = lab.spawnIn(lab.node, process.execPath, [fwd]);
  await new Promise<void>((resolve) => p.stdout!.on('data', (d) => String(d).includes('ready') && resolve()));
  return forward;
}

/**
 * wireSecondMachine makes network namespace netns a "second machine" on subnet (a /24 the caller
 * reserved): a veth whose host end holds .1 and whose other end, eth0 in the namespace, holds .2,
 * and one route out of the namespace, to advertise (the apiserver's address) through this
 * machine, so the namespace reaches nothing else. The caller deletes the namespace and the veth.
 */
export function wireSecondMachine(netns: string, veth: string, subnet: string, advertise: string): { hostIP: string; machineIP: string } {
  const [a, b, c] = subnet.split('.');
  const hostIP = `${a}.${b}.${c}.1`;
  const machineIP = `${a}.${b}.${c}.2`;
  const sh = (...args: string[]) => {
    const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  };
  sh('ip', 'netns', 'add', netns);
  sh('ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`);
  sh('ip', 'link', 'set', `${veth}p`, 'netns', netns);
  sh('ip', '-n', netns, 'link', 'set', `${veth}p`, 'name', 'eth0');
  sh('ip', 'addr', 'add', `${hostIP}/24`, 'dev', veth);
  sh('ip', 'link', 'set', veth, 'up');
  sh('ip', '-n', netns, 'addr', 'add', `${machineIP}/24`, 'dev', 'eth0');
  sh('ip', '-n', netns, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', netns, 'link', 'set', 'eth0', 'up');
  sh('ip', '-n', netns, 'route', 'add', `${advertise}/32`, 'via', hostIP, 'dev', 'eth0');
  return { hostIP, machineIP };
}
