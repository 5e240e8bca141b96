#!/usr/bin/python3
# An independent HTTP/2 peer for the interop tests, on Debian's python3-h2 (hyper-h2).
#   server PORT            accept one connection; answer CONNECT with 200 and echo the stream's bytes;
#                          answer anything else 405; print "done" after the connection ends
#   client PORT NBYTES     CONNECT to 127.0.0.1:PORT, send NBYTES of a fixed pattern, end the stream,
#                          read the echo to its END_STREAM; print the sha256 of what came back
# hyper-h2 4.1 requires :scheme and :path on every request, CONNECT included (RFC 9113 8.5 forbids them
# there), so its request-header validation is off; everything else it checks stays on.
# Flow control is respected both ways: received bytes are acknowledged as they are consumed, and sends
# wait for the peer's windows.
import hashlib
import socket
import sys

import h2.config
import h2.connection
import h2.events


def pattern(n):
    block = bytes(range(256)) * 256
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


def pump(conn, sock, state):
    chunk = sock.recv(65536)
    if not chunk:
        state["closed"] = True
        return []
    events = conn.receive_data(chunk)
    out = conn.data_to_send()
    if out:
        sock.sendall(out)
    return events


def server(port):
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(1)
    print("listening", flush=True)
    sock, _ = lsock.accept()
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, validate_inbound_headers=False))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    state = {}
    # Per stream: bytes to echo not yet sent (the peer's window was short), and whether the peer ended.
    pending = {}
    ended = set()

    def flush():
        for sid in list(pending):
            data = pending[sid]
            while data:
                room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size, len(data))
                if room <= 0:
                    break
                conn.send_data(sid, data[:room])
                data = data[room:]
            pending[sid] = data
            if not data and sid in ended:
                conn.end_stream(sid)
                del pending[sid]
        out = conn.data_to_send()
        if out:
            sock.sendall(out)

    while not state.get("closed"):
        for ev in pump(conn, sock, state):
            if isinstance(ev, h2.events.RequestReceived):
                headers = dict((k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v) for k, v in ev.headers)
                status = "200" if headers.get(":method") == "CONNECT" else "405"
                conn.send_headers(ev.stream_id, [(":status", status)], end_stream=status != "200")
                if status == "200":
                    pending[ev.stream_id] = b""
            elif isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                pending[ev.stream_id] = pending.get(ev.stream_id, b"") + ev.data
            elif isinstance(ev, h2.events.StreamEnded):
                ended.add(ev.stream_id)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                state["closed"] = True
        flush()
    sock.close()
    print("done", flush=True)


def client(port, nbytes):
    sock = socket.create_connection(("127.0.0.1", port))
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, validate_outbound_headers=False))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(b":method", b"CONNECT"), (b":authority", b"198.18.0.1:80")])
    sock.sendall(conn.data_to_send())
    state = {}
    status = None
    while status is None:
        for ev in pump(conn, sock, state):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(b":status", b"").decode()
        if state.get("closed"):
            break
    if status != "200":
        print("status", status, flush=True)
        return
    digest = hashlib.sha256()
    got = 0
    ended = False

    def consume(events):
        nonlocal got, ended
        for ev in events:
            if isinstance(ev, h2.events.DataReceived):
                digest.update(ev.data)
                got += len(ev.data)
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                sock.sendall(conn.data_to_send())
            elif isinstance(ev, h2.events.StreamEnded):
                ended = True

    data = pattern(nbytes)
    while data:
        room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size, len(data))
        if room <= 0:
            consume(pump(conn, sock, state))
            continue
        conn.send_data(sid, data[:room])
        data = data[room:]
        sock.sendall(conn.data_to_send())
    conn.end_stream(sid)
    sock.sendall(conn.data_to_send())
    while not ended and not state.get("closed"):
        consume(pump(conn, sock, state))
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.close()
    print(got, digest.hexdigest(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(int(sys.argv[2]), int(sys.argv[3]))
