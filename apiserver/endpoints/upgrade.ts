// Upgrade requests (WebSocket, SPDY) come to the front door like any other request: the server's
// 'upgrade' event gives them a ServerResponse on their socket, so authentication, authorization
// and errors take the usual way; a handler that takes the connection over finds it here.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const upgrades = new WeakMap<IncomingMessage, { socket: Duplex; head: Buffer }>();

/** markUpgrade records that req asks for an upgrade on socket, with the bytes read past its head. */
export function markUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
  upgrades.set(req, { socket, head });
}

/** upgradeOf returns the connection of an upgrade request, undefined for a plain one. */
export function upgradeOf(req: IncomingMessage): { socket: Duplex; head: Buffer } | undefined {
  return upgrades.get(req);
}
