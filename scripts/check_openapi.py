"""Checks docs/openapi.yaml against the running server (API.md: the spec "is checked against
the running server"). Starts `vaccount serve --demo` on a temporary data dir, sends real
signed requests that exercise every documented route and error, and validates each
response (status, headers, body) against the spec with openapi-core.

usage: python check_openapi.py PATH_TO_VACCOUNT_BINARY
"""

import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPEC = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


def main(binary):
    # openapi-core parses `application/json` bodies only; problems are JSON too.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    spec = OpenAPI.from_file_path(str(SPEC), config=config)
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [binary, "--data-dir", data_dir, "serve", "--demo", "--addr", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            url = None
            for line in server.stdout:
                if line.startswith("vaccount listening on "):
                    url = line.split()[3]
                    break
            if url is None:
                sys.exit("serve did not start")
            demo = json.loads((Path(data_dir) / "demo.json").read_text())
            return run_checks(spec, url, demo["key_id"], demo["secret"])
        finally:
            server.terminate()
            server.wait(timeout=10)


def run_checks(spec, url, key_id, secret):
    session = requests.Session()
    checked = []

    def call(method, target, body=None, headers=None, expect=None, secret_override=None):
        raw = "" if body is None else (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))
        ts = str(int(time.time()))
        canonical = f"{ts}\n{method}\n{target}\n{hashlib.sha256(raw.encode()).hexdigest()}"
        signature = hmac.new((secret_override or secret).encode(), canonical.encode(), hashlib.sha256).hexdigest()
        all_headers = {"X-VA-Key-Id": key_id, "X-VA-Timestamp": ts, "X-VA-Signature": signature}
        if raw:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        request = requests.Request(method, url + target, data=raw.encode() if raw else None, headers=all_headers).prepare()
        response = session.send(request)
        if expect is not None and response.status_code != expect:
            sys.exit(f"{method} {target}: expected {expect}, got {response.status_code}: {response.text}")
        spec.validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
        checked.append(f"{method} {target.split('?')[0]} -> {response.status_code}")
        return response

    issue = {"order_id": "SPEC-1", "amount": 35000, "bank_code": "004", "depositor_name": "홍길동",
             "customer": {"name": "홍길동", "phone": "01012345678", "email": "a@example.com"}, "metadata": {"mall": "cafe24"}}
    account = call("POST", "/v1/virtual-accounts", issue, {"Idempotency-Key": "spec-1"}, expect=201).json()
    call("POST", "/v1/virtual-accounts", issue, {"Idempotency-Key": "spec-1"}, expect=201)
    call("POST", "/v1/virtual-accounts", {"order_id": "SPEC-F", "type": "fixed", "bank_code": "088"}, expect=201)
    call("GET", f"/v1/virtual-accounts/{account['id']}", expect=200)
    call("GET", "/v1/virtual-accounts?limit=1", expect=200)
    call("GET", "/v1/virtual-accounts?status=waiting&order_id=SPEC-1", expect=200)
    call("POST", f"/v1/virtual-accounts/{account['id']}/close", expect=200)
    call("GET", "/healthz", expect=200)
    # Errors: each documented status with its problem body.
    call("POST", "/v1/virtual-accounts", {"order_id": "X", "amount": 0, "bank_code": "004"}, expect=400)
    call("GET", "/v1/virtual-accounts?limit=0", expect=400)
    call("POST", "/v1/virtual-accounts", issue, expect=409)
    call("POST", f"/v1/virtual-accounts/{account['id']}/close", expect=409)
    call("POST", "/v1/virtual-accounts", issue | {"order_id": "SPEC-2"}, {"Idempotency-Key": "spec-1"}, expect=422)
    call("GET", "/v1/virtual-accounts/va_01KWFX0000000000000000VA99", expect=404)
    call("GET", "/v1/virtual-accounts", secret_override="wrong", expect=401)
    call("POST", "/v1/virtual-accounts", issue | {"order_id": "BIG", "depositor_name": "x" * 70000}, expect=413)
    for line in checked:
        print("ok", line)
    print(f"openapi: {len(checked)} responses match docs/openapi.yaml")


if __name__ == "__main__":
    main(sys.argv[1])
