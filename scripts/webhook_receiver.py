"""A merchant's webhook receiver for the black-box tests: a real HTTP server that records every
request it gets (headers, raw body, arrival time) as one JSON line, and answers 500 to the first
N deliveries of each webhook-id when posted to /fail/N (200 otherwise).

Usage: webhook_receiver.py LOG_FILE  -> prints "listening PORT" once it accepts connections.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log_path = sys.argv[1]
lock = threading.Lock()
seen = {}


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        webhook_id = self.headers.get("webhook-id", "")
        fail_first = 0
        if self.path.startswith("/fail/"):
            fail_first = int(self.path.split("/")[2])
        with lock:
            key = (self.path, webhook_id)
            seen[key] = seen.get(key, 0) + 1
            status = 500 if seen[key] <= fail_first else 200
            record = {
                "path": self.path,
                "at": time.time(),
                "status": status,
                "headers": {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("webhook-")},
                "content_type": self.headers.get("content-type"),
                "body": body.decode("utf-8"),
            }
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
        answer = b'{"ok":true}' if status == 200 else b'{"ok":false}'
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
