"""moto's server app on 127.0.0.1, one request at a time.

moto's in-memory DynamoDB is not thread-safe: a Query running while a TransactWriteItems
commits fails with "dictionary changed size during iteration" and an HTML 500. Real
DynamoDB has no such failure, so the tests serialize requests to the emulator instead of
teaching the service to retry an emulator bug. Connections stay concurrent (keep-alive).

usage: python moto_server.py PORT
"""

import io
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    # Read the request body before taking the lock: a client that stalls mid-request (a
    # cancelled task, a slow connection) must not hold every other request behind it.
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    with lock:
        # Materialize the response inside the lock: moto builds it lazily from shared state.
        return list(app(environ, start_response))


if __name__ == "__main__":
    run_simple("127.0.0.1", int(sys.argv[1]), serialized, threaded=True)
