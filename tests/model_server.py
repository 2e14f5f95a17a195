"""A real HTTP server on 127.0.0.1 for model-download tests (the only place a download may go
in a test). It answers Range requests like a CDN does and records what it was asked."""

from __future__ import annotations

import http.server
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelServer:
    """Serves ``files`` (path -> bytes) at ``url``.

    Attributes:
        files: What to serve; change it between requests as a test needs.
        requests: (path, headers) of every GET, in order.
        block: Bytes written per send; with ``delay`` this throttles the body so a test can
            pause a download in the middle.
        delay: Seconds to sleep after each block (0: full speed).
        honour_ranges: False: answer every Range request with the whole file (status 200).
        cut_at: Close the connection once the body has reached this byte (a dropped link).
        url: ``http://127.0.0.1:<port>`` once started.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    block: int = 1 << 16
    delay: float = 0.0
    honour_ranges: bool = True
    cut_at: int | None = None
    url: str = ""
    _srv: Any = None

    def start(self) -> ModelServer:
        """Listen on a free port in a daemon thread."""
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append((self.path, dict(self.headers.items())))
                data = owner.files.get(self.path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if m and owner.honour_ranges and int(m.group(1)) < len(data):
                    start = int(m.group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                try:
                    end = len(data) if owner.cut_at is None else min(owner.cut_at, len(data))
                    for i in range(start, end, owner.block):
                        self.wfile.write(data[i : min(i + owner.block, end)])
                        if owner.delay:
                            time.sleep(owner.delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client paused or cancelled

            def log_message(self, *a: object) -> None:
                pass

        self._srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._srv.daemon_threads = True
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._srv.server_address[1]}"
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._srv.shutdown()
        self._srv.server_close()

    def ranges(self, path: str) -> list[str | None]:
        """The Range header of each request for ``path`` (None: the whole file was asked for)."""
        return [h.get("Range") for p, h in self.requests if p == path]
