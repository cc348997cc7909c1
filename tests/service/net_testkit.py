"""Shared by the service network tests: an echo session, a server in a thread, raw sockets."""
from __future__ import annotations

import contextlib
import socket

from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.framing.kinds import Kind
from veil.service.server import Server
from veil.service.frames import ServiceKind

ECHO_LIMIT = 1 << 20


def echo_handler(channel: Channel, peer) -> None:
    """Echo HELLO payloads until an empty one, then answer DONE."""
    while payload := channel.recv(ServiceKind.HELLO, max_payload=ECHO_LIMIT):
        channel.send(ServiceKind.HELLO, payload)
    channel.send(ServiceKind.DONE, b"")


def echo(channel: Channel, payload: bytes) -> bytes:
    channel.send(ServiceKind.HELLO, payload)
    return channel.recv(ServiceKind.HELLO, max_payload=ECHO_LIMIT)


def finish(channel: Channel) -> None:
    channel.send(ServiceKind.HELLO, b"")
    channel.recv(ServiceKind.DONE, max_payload=0)
    channel.close()


def host_port(server: Server) -> str:
    host, port = server.address
    return f"{host}:{port}"


@contextlib.contextmanager
def running(handler=echo_handler, **options):
    server = Server(handler, **options)
    server.serve_in_thread()
    try:
        yield server
    finally:
        server.shutdown(grace=1.0)


def raw(server: Server, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(server.address, timeout=timeout)
