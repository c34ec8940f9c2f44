/**
 * A TCP relay on 127.0.0.1:<free port> in front of another port, whose traffic can be held back or
 * cut: a network partition between two processes on one machine. The Sentinel tests put it between
 * a replica and its master, so that writes the master acknowledges never reach the replica.
 *
 *   const link = await startTcpLink(masterPort);  // the replica replicates from link.port
 *   link.hold();    // bytes in both directions are swallowed (the replica falls behind, silently)
 *   link.cut();     // connections reset, new ones refused
 *   await link.close();
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { LOOPBACK } from './server-process.js';

export interface TcpLink {
  readonly port: number;
  /** Stop forwarding: what arrives from now on is never delivered (connections stay open, silent). */
  hold(): void;
  /** Destroy every connection; refuse new connections from now on. */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpLink(targetPort: number): Promise<TcpLink> {
  let held = false;
  let cut = false;
  const sockets = new Set<Socket>();

  /** Forwards `from` to `to`; while the link is held, chunks are dropped (a partition never delivers them). */
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!held) to.write(chunk);
    });
    from.on('end', () => (held ? undefined : to.end()));
  };

  const server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: LOOPBACK, port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    hold: () => {
      held = true;
    },
    cut: () => {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      cut = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
