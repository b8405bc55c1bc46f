"""Misbehaving clients for the abuse tests, run as an unprivileged user. Each mode prints one JSON line.

  silent SOCKET LIMIT          connect, send nothing; report when (if) the server closes the connection
  flood SOCKET N HOLD READY    open N connections at once; report how many the server closed; hold them HOLD s
  hold SOCKET CONNS STREAMS HOLD READY
                               open CONNS HTTP/2 connections with STREAMS gRPC calls each whose body never comes,
                               so each call holds a request slot; touch READY when sent, keep them HOLD s
"""
import json
import os
import select
import socket
import struct
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def closed_by_peer(s, wait):
    """True if the peer closed (EOF or reset) within `wait` seconds; data is drained and ignored."""
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([s], [], [], left)
        if not ready:
            return False
        try:
            if not s.recv(65536):
                return True
        except ConnectionError:
            return True


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    # HPACK "literal header field without indexing, new name", no Huffman coding.
    name, value = name.encode(), value.encode()
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def grpc_headers(path):
    block = b"".join(literal(n, v) for n, v in [
        (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
        ("content-type", "application/grpc"), ("te", "trailers")])
    return block


mode = sys.argv[1]
if mode == "silent":
    path, limit = sys.argv[2], float(sys.argv[3])
    start = time.monotonic()
    s = connect(path)
    closed = closed_by_peer(s, limit)
    print(json.dumps({"closed": closed, "after": round(time.monotonic() - start, 1)}))
elif mode == "flood":
    path, count, hold, ready = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    sockets, refused = [], 0
    for _ in range(count):
        try:
            sockets.append(connect(path))
        except OSError:
            refused += 1
    time.sleep(1.0)
    closed = sum(1 for s in sockets if closed_by_peer(s, 0.05))
    open(ready, "w").close()
    time.sleep(hold)
    print(json.dumps({"opened": len(sockets), "refused": refused, "closed_by_server": closed, "kept": len(sockets) - closed}))
elif mode == "hold":
    path, conns, streams, hold, ready = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    held = []
    for _ in range(conns):
        s = connect(path)
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b""))
        for i in range(streams):
            # HEADERS with END_HEADERS but not END_STREAM: the request body (the message) never follows.
            s.sendall(frame(1, 0x4, 1 + 2 * i, grpc_headers("/netporter.v1.Porter/Info")))
        held.append(s)
    time.sleep(0.5)
    open(ready, "w").close()
    time.sleep(hold)
    print(json.dumps({"connections": len(held), "streams": conns * streams}))
else:
    sys.exit("unknown mode " + mode)
