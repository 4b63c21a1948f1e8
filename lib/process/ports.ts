// Free TCP ports for processes a test or a lab starts. They are drawn at random from 20000–29999:
// below the kernel's ephemeral range (32768+ here), so an outgoing connection of some other
// process cannot take a port between the moment it is found free and the moment its component
// binds it (a real CI failure when ports came from bind(0), which hands out ephemeral ports); above
// Kubernetes' own default ports (10248–10259) and below the NodePort range (30000–32767) that the
// proxies of test clusters program on this machine. Parallel test processes do not hand out the
// same port twice: each port is reserved for a minute by an abstract unix socket named after it,
// which the kernel releases by itself when the process ends.

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const LOW = 20000;
const HIGH = 29999;
const RESERVE_MS = 60_000;

/** handedOut remembers every port this process returned, so it never returns one twice. */
const handedOut = new Set<number>();

/**
 * freePorts returns n distinct ports that were free on host a moment ago and that no other skiff
 * process handed out in the last minute. All n listeners are held open together while they are
 * chosen.
 */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const high = Math.min(HIGH, ephemeralLow() - 1);
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > 2000) throw new Error(`freePorts: found only ${ports.length} of ${n} free ports in ${LOW}-${high}`);
      const port = LOW + Math.floor(Math.random() * (high - LOW + 1));
      if (handedOut.has(port) || ports.includes(port)) continue;
      if (!(await reserve(port))) continue;
      const srv = await listen(port, host);
      if (srv === undefined) continue;
      servers.push(srv);
      ports.push(port);
    }
    for (const p of ports) handedOut.add(p);
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** freePort returns one free port on host. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0]!;
}

/** ephemeralLow is the first port the kernel hands out for outgoing connections. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOW + 1000 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** listen binds port on host, or answers undefined when something else holds it. */
function listen(port: number, host: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host, exclusive: true }, () => resolve(srv));
  });
}

/**
 * reserve claims port among skiff processes for a minute with an abstract unix socket named after
 * it; false when another process holds that claim.
 */
function reserve(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(`\0skiff-port-${port}`, () => {
      srv.unref();
      setTimeout(() => srv.close(), RESERVE_MS).unref();
      resolve(true);
    });
  });
}
