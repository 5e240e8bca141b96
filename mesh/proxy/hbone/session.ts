// Ending an HTTP/2 session so that its socket is really released.
import type http2 from "node:http2";
import type { Duplex } from "node:stream";

/**
 * GOAWAY first so the peer sees an orderly end and open streams may finish, then, after `graceMs`,
 * destroy the socket. session.close() alone only half-closes the socket (it ends our side and waits
 * for the peer's FIN): a peer that never sends one would hold the socket and its fd forever.
 */
export function closeSession(session: http2.Http2Session, socket: Duplex | null | undefined, graceMs = 1000): void {
  if (!session.closed && !session.destroyed) session.close();
  const timer = setTimeout(() => {
    if (!session.destroyed) session.destroy();
    if (socket && !socket.destroyed) socket.destroy();
  }, graceMs);
  timer.unref();
  if (socket) socket.once("close", () => clearTimeout(timer));
}
