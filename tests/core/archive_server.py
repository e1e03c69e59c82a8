"""A real HTTP server on 127.0.0.1 serving one archive (or several files), for download tests (core and GUI)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ArchiveServer:
    """Serves ``payload`` at any path, or a {"/path": bytes} dict of files (others: 404);
    ``mode`` picks a misbehaviour; records each request.

    Modes: "good"; "missing" (404); "drop_first" (the first response hangs up halfway);
    "ignore_range" (that, and Range headers ignored); "slow" (64 KB every 50 ms, for cancelling);
    "no_length" (no Content-Length: the body simply runs until the connection closes).
    """

    def __init__(self, payload: bytes, mode: str = "good"):
        self.payload, self.mode, self.requests = payload, mode, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                files = server.payload if isinstance(server.payload, dict) else None
                if server.mode == "missing" or (files is not None and self.path not in files):
                    self.send_error(404, "Not Found")
                    return
                body, status, start = files[self.path] if files is not None else server.payload, 200, 0
                wanted = self.headers.get("Range")
                if wanted and server.mode != "ignore_range":
                    start = int(wanted.split("=")[1].split("-")[0])
                    status = 206
                self.send_response(status)
                if server.mode == "no_length":
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_header("Content-Length", str(len(body) - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if server.mode in ("drop_first", "ignore_range") and len(server.requests) == 1:
                    # Promise the whole file, send half, hang up: a broken connection.
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if server.mode == "slow":
                    try:
                        for i in range(start, len(body), 64 * 1024):
                            self.wfile.write(body[i:i + 64 * 1024])
                            self.wfile.flush()
                            time.sleep(0.05)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client cancelled and hung up
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def url(self, path="/cifar-10-python.tar.gz"):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
