"""A man in the middle for the trust tests: a server on another port of 127.0.0.1 with its own
self-signed certificate, standing where a client expects its cloud. It completes the TLS
handshake (or, for a client that does not speak TLS, just listens) and records every
application byte the client sends afterwards, so a test can look at what an impersonated
cloud actually got instead of trusting an error message."""
from __future__ import annotations

import hashlib
import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from veil.service.tls import make_self_signed, server_context

TLS_RECORD = 0x16
LISTEN_SECONDS = 3.0        # how long it waits for a client's next byte before hanging up


class Impostor:
    def __init__(self, folder: Path, port: int = 0, name: str = "impostor"):
        self.cert, self.key = folder / f"{name}.pem", folder / f"{name}.key"
        make_self_signed(self.cert, self.key)
        self.fingerprint = der_fingerprint(self.cert)
        self._ctx = server_context(self.cert, self.key)
        self._listener = socket.create_server(("127.0.0.1", port))
        self.address = "127.0.0.1:%d" % self._listener.getsockname()[1]
        self.handshakes = 0
        self.received: list[bytes] = []     # per connection: what came after the handshake
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._record, args=(sock,), daemon=True).start()

    def _record(self, sock: socket.socket) -> None:
        got = b""
        try:
            sock.settimeout(LISTEN_SECONDS)
            if sock.recv(1, socket.MSG_PEEK)[:1] == bytes([TLS_RECORD]):
                sock = self._ctx.wrap_socket(sock, server_side=True)
                with self._lock:
                    self.handshakes += 1
            while chunk := sock.recv(65536):
                got += chunk
        except (OSError, ssl.SSLError):
            pass
        finally:
            sock.close()
            with self._lock:
                self.received.append(got)

    def close(self) -> None:
        """Free the port at once: shutdown wakes the thread blocked in accept (close alone
        would leave the listening socket alive until accept returned)."""
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self._thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def der_fingerprint(cert_pem: Path) -> str:
    """SHA-256 of the DER certificate, computed here rather than by the code under test."""
    cert = x509.load_pem_x509_certificate(Path(cert_pem).read_bytes())
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
