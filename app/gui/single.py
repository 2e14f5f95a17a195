"""One resident Findling per user: later starts hand their request to it and exit.

The first process listens on a QLocalServer named after FINDLING_HOME's data folder; a second
``findling-gui`` sends ``show`` (``findling-gui --launcher`` sends ``launcher``) and exits 0.
"""

from __future__ import annotations

import hashlib
import logging
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

COMMANDS = ("show", "launcher")
TIMEOUT_MS = 1500


def server_name(data_dir: str) -> str:
    """A per-user, per-data-folder name (two FINDLING_HOMEs are two Findlings)."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or str(os.getuid())
    digest = hashlib.sha1(f"{user}:{os.path.abspath(data_dir)}".encode()).hexdigest()[:12]
    return f"findling-{digest}"


def send(name: str, command: str, timeout_ms: int = TIMEOUT_MS) -> bool:
    """Hand ``command`` to a running Findling; False when none answers."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(command.encode() + b"\n")
    ok = sock.waitForBytesWritten(timeout_ms)
    # wait for the reply so the command is known to have arrived before we exit
    ok = ok and sock.waitForReadyRead(timeout_ms) and bytes(sock.readAll().data()).startswith(b"ok")
    sock.disconnectFromServer()
    return bool(ok)


class InstanceServer(QObject):
    """Listens for commands from later starts; ``command`` fires with each one."""

    command = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._connection)

    def listen(self) -> bool:
        """Start listening, clearing a socket file left behind by a crashed Findling."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        ok = self.server.listen(self.name)
        if not ok:
            log.error("Cannot listen on %s: %s", self.name, self.server.errorString())
        return ok

    def _connection(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        while sock.canReadLine():
            cmd = bytes(sock.readLine().data()).decode(errors="replace").strip()
            if cmd in COMMANDS:
                sock.write(b"ok\n")
                sock.flush()
                self.command.emit(cmd)
            else:
                sock.write(b"unknown\n")
                log.warning("Unknown command from another Findling: %r", cmd[:40])

    def close(self) -> None:
        """Stop listening."""
        self.server.close()
