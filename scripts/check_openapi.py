"""Checks docs/openapi.yaml against the running server (docs/openapi.yaml: the spec "is checked against
the running server"). Prepares a temporary data dir with the setup commands (operators, a
maker-checker merchant, more providers), starts `vaccount serve --demo` on it, sends real
requests that exercise every documented route and error (merchant-signed, provider-signed and
admin requests: operators enrol, log in with a TOTP code computed here, and act with the
session cookie and CSRF token), and validates each response (status, headers, body) against the
spec with openapi-core. Requests expected to succeed are validated against the spec too.

usage: python check_openapi.py PATH_TO_VACCOUNT_BINARY
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError

SPEC = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
KST = timezone(timedelta(hours=9))
# Well-formed ids that name nothing.
UNKNOWN_ACCOUNT = "va_01KWFX0000000000000000VA99"
UNKNOWN_DEPOSIT = "dep_01KWFX0000000000000000DE99"
UNKNOWN_EXCEPTION = "exc_01KWFX0000000000000000EX99"
UNKNOWN_ENDPOINT = "whe_01KWFX0000000000000000WH99"
UNKNOWN_EVENT = "evt_01KWFX0000000000000000EV99"
UNKNOWN_INCIDENT = "inc_01KWFX0000000000000000IN99"
# A number in no pool: deposits to it are `unknown_account` exceptions.
NOBODYS_NUMBER = "11112222333344"
# The operators the checker makes with `vaccount admin create-user` (name, role, pii), and the
# password each chooses at enrolment (at least 12 characters, docs/admin.md).
OPERATORS = [("kim", "admin", False), ("lee", "admin", True), ("viewer", "viewer", False), ("choi", "super_admin", False)]
PASSWORD = "correct horse battery staple"


def main(binary):
    # openapi-core parses `application/json` bodies only; problems are JSON too.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    spec = OpenAPI.from_file_path(str(SPEC), config=config)
    with tempfile.TemporaryDirectory() as data_dir:
        setup = prepare(binary, data_dir)
        server = subprocess.Popen(
            [binary, "--data-dir", data_dir, "serve", "--demo", "--addr", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            # Webhook URLs on loopback: a check must not reach the internet, and the names a
            # merchant would register do not resolve here (see check_webhooks).
            env={**os.environ, "VACCOUNT_ALLOW_PRIVATE_WEBHOOKS": "true"},
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
            return run_checks(spec, url, demo, setup)
        finally:
            server.terminate()
            server.wait(timeout=10)


def setup_command(binary, data_dir, *args):
    """Runs one setup command on the data dir (no server may hold it) and returns its JSON."""
    command = " ".join(["vaccount", *args])
    result = subprocess.run([binary, "--data-dir", data_dir, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"setup: `{command}` failed (exit {result.returncode}); the checker needs this command: {result.stderr.strip()}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit(f"setup: `{command}` did not print JSON: {result.stdout!r}")


def prepare(binary, data_dir):
    """What only the CLI can create, made before `serve` opens the data dir. (`serve --demo`
    still sets up its demo merchant, provider and pools: it only looks for demo.json.)"""
    enrolments = {}
    for name, role, pii in OPERATORS:
        created = setup_command(binary, data_dir, "admin", "create-user", "--name", name, "--role", role, *(["--pii"] if pii else []))
        if {k: created.get(k) for k in ("operator", "role", "pii")} != {"operator": name, "role": role, "pii": pii} or not created.get("enrolment_token"):
            sys.exit(f"setup: `vaccount admin create-user --name {name} --role {role}` printed {created}, "
                     f"not {{\"operator\", \"role\", \"pii\", \"enrolment_token\"}}")
        enrolments[name] = created["enrolment_token"]
    approval = setup_command(binary, data_dir, "merchant", "create", "--name", "Approval Mall", "--require-approval")
    setup_command(binary, data_dir, "provider", "add", "--id", "toss", "--kind", "tosspayments")
    # Loopback is not on this provider's allowlist, so every notice the checker sends it is refused.
    walled = setup_command(binary, data_dir, "provider", "add", "--id", "walled", "--kind", "generic", "--allow-ip", "192.0.2.1")
    # A settled day for the approval merchant (its only merchant so far): a day with no deposits.
    settled = setup_command(binary, data_dir, "settle", "--date", "2026-11-24")
    if [s.get("date") for s in settled] != ["2026-11-24"] or settled[0].get("net") != 0:
        sys.exit(f"setup: `vaccount settle --date 2026-11-24` printed {settled}, not one empty settlement")
    return {"enrolments": enrolments, "approval": approval, "walled_secret": walled["secret"]}


def merchant_signer(key_id, secret):
    def sign(method, target, raw):
        ts = str(int(time.time()))
        canonical = f"{ts}\n{method}\n{target}\n{hashlib.sha256(raw.encode()).hexdigest()}"
        signature = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
        return {"X-VA-Key-Id": key_id, "X-VA-Timestamp": ts, "X-VA-Signature": signature}
    return sign


def provider_signer(secret):
    def sign(method, target, raw):
        return {"X-Provider-Signature": hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()}
    return sign


def totp(secret, step):
    """RFC 6238 (HMAC-SHA-1, 6 digits) for a 30 s step, from the base32 secret of the enrolment."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class Operator:
    """An operator of the admin API as a browser holds them: credentials, then a session cookie
    and its CSRF token. The server takes each TOTP step once and accepts one step of drift, so
    `code` hands out the current step, or the next one when the current one is spent."""

    def __init__(self, name, password=PASSWORD):
        self.name, self.password = name, password
        self.secret, self.last_step, self.cookie, self.csrf = None, None, None, None

    def code(self):
        while True:
            now = int(time.time()) // 30
            step = now if self.last_step is None or self.last_step < now else self.last_step + 1
            if step <= now + 1:
                self.last_step = step
                return totp(self.secret, step)
            time.sleep(30 - time.time() % 30 + 0.1)

    def current(self):
        """The current step's code, left unspent: for requests refused before it counts."""
        return totp(self.secret, int(time.time()) // 30)

    def auth(self, csrf=True, cookie=True):
        """`call`'s arguments for a request in this operator's session: the cookie, and on a
        request that changes something the `X-CSRF-Token` header."""
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return {"signer": lambda method, target, raw: dict(headers), "cookies": {"vaccount_admin": self.cookie} if cookie else None}


def unsigned(method, target, raw):
    return {}


def require(condition, message):
    if not condition:
        sys.exit(f"check failed: {message}")


def run_checks(spec, url, demo, setup):
    session = requests.Session()
    checked = []
    merchant = merchant_signer(demo["key_id"], demo["secret"])

    def call(method, target, body=None, headers=None, expect=None, signer=merchant, cookies=None):
        raw = "" if body is None else (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))
        all_headers = signer(method, target, raw)
        if raw:
            all_headers["Content-Type"] = "application/json"
        if expect is not None and expect >= 400:
            # A request refused before its body is read (413, an operator's 401) leaves the
            # server closing the connection, without saying so; do not reuse it.
            all_headers["Connection"] = "close"
        all_headers.update(headers or {})
        # Cookies go through requests' jar, where openapi-core looks for the cookie scheme. The
        # session cookie is `Secure`, so the jar would not send it back to http://127.0.0.1 by
        # itself: each admin call names it.
        request = requests.Request(method, url + target, data=raw.encode() if raw else None, headers=all_headers, cookies=cookies).prepare()
        response = session.send(request)
        if expect is not None and response.status_code != expect:
            sys.exit(f"{method} {target}: expected {expect}, got {response.status_code}: {response.text}")
        try:
            if 200 <= response.status_code < 300:
                spec.validate_request(RequestsOpenAPIRequest(request))
            spec.validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
        except OpenAPIError as e:
            cause = f"\n  cause: {e.__cause__}" if e.__cause__ is not None and str(e.__cause__) not in str(e) else ""
            sys.exit(f"{method} {target} -> {response.status_code} does not match docs/openapi.yaml: {e}{cause}\n"
                     f"  request body: {raw}\n  response body: {response.text}")
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
    call("GET", f"/v1/virtual-accounts/{UNKNOWN_ACCOUNT}", expect=404)
    call("GET", "/v1/virtual-accounts", signer=merchant_signer(demo["key_id"], "wrong"), expect=401)
    call("POST", "/v1/virtual-accounts", issue | {"order_id": "BIG", "depositor_name": "x" * 70000}, expect=413)

    ops = check_admin_identity(call, setup)
    check_notices(call, demo, setup, ops)
    events = check_webhooks(call, demo)
    check_settlements(call, demo, setup)
    check_admin_lists(call, ops, setup)
    check_admin_work(call, ops, events)
    for line in checked:
        print("ok", line)
    print(f"openapi: {len(checked)} responses match docs/openapi.yaml")


def check_notices(call, demo, setup, ops):
    """Provider notifications, the deposits they record, and the admin routes that resolve
    the exceptions among them."""
    bank = provider_signer(demo["provider_secret"])
    notices = f"/v1/providers/{demo['provider_id']}/notifications"
    now = datetime.now(KST).replace(microsecond=0)
    occurred = now.isoformat()

    def deposit(tx, number, amount, bank_code="004", name="홍길동"):
        return {"type": "deposit", "transaction_id": tx, "bank_code": bank_code, "account_number": number,
                "amount": amount, "depositor_name": name, "occurred_at": occurred}

    # A deposit of the exact amount is matched; the same notice again changes nothing.
    paid = call("POST", "/v1/virtual-accounts", {"order_id": "SPEC-D1", "amount": 35000, "bank_code": "004", "depositor_name": "홍길동"}, expect=201).json()
    first = call("POST", notices, deposit("SPEC-T1", paid["account_number"], 35000), signer=bank, expect=200).json()
    require(first.get("result") == "ok" and first.get("status") == "matched", f"an exact deposit is matched: {first}")
    again = call("POST", notices, deposit("SPEC-T1", paid["account_number"], 35000), signer=bank, expect=200).json()
    require(again == first, f"a redelivered notice gets the same answer: {first} then {again}")
    # More money to the paid account: the excess is held.
    over = call("POST", notices, deposit("SPEC-T3", paid["account_number"], 5000), signer=bank, expect=200).json()
    require(over.get("status") == "exception", f"a deposit to a paid account is an exception: {over}")
    # A deposit, then its reversal.
    other = call("POST", "/v1/virtual-accounts", {"order_id": "SPEC-D2", "amount": 10000, "bank_code": "088"}, expect=201).json()
    taken = call("POST", notices, deposit("SPEC-T2", other["account_number"], 10000, bank_code="088", name=None), signer=bank, expect=200).json()
    reversal = {"type": "reversal", "transaction_id": "SPEC-T2R", "original_transaction_id": "SPEC-T2", "occurred_at": occurred}
    back = call("POST", notices, reversal, signer=bank, expect=200).json()
    require(back == {"result": "ok", "deposit_id": taken["deposit_id"], "status": "reversed"}, f"a reversal names the deposit it reversed: {back}")
    # Two deposits to a number that is nobody's: recorded, as exceptions for an operator.
    lost = call("POST", notices, deposit("SPEC-U1", NOBODYS_NUMBER, 10000, name="김철수"), signer=bank, expect=200).json()
    require(lost.get("status") == "exception", f"a deposit to an unknown number is an exception: {lost}")
    stray = call("POST", notices, deposit("SPEC-U2", NOBODYS_NUMBER, 35000, name="김철수"), signer=bank, expect=200).json()
    # Errors of the notification route.
    call("POST", notices, deposit("SPEC-T9", paid["account_number"], 35000), signer=provider_signer("wrong"), expect=401)
    call("POST", notices, deposit("SPEC-T9", paid["account_number"], 35000), signer=unsigned, expect=401)
    call("POST", "/v1/providers/nobody/notifications", deposit("SPEC-T9", paid["account_number"], 35000), signer=bank, expect=401)
    malformed = {"type": "deposit", "transaction_id": "SPEC T9", "bank_code": "999", "account_number": "12", "amount": "35000", "occurred_at": "yesterday"}
    call("POST", notices, malformed, signer=bank, expect=400)
    call("POST", notices, deposit("SPEC-T9", paid["account_number"], 35000) | {"memo": "x"}, signer=bank, expect=400)
    call("POST", notices, deposit("SPEC-T9", paid["account_number"], 35000, name="x" * 70000), signer=bank, expect=413)
    early = {"type": "reversal", "transaction_id": "SPEC-R0", "original_transaction_id": "SPEC-NEVER", "occurred_at": occurred}
    call("POST", notices, early, signer=bank, expect=409)
    call("POST", "/v1/providers/walled/notifications", deposit("SPEC-W1", paid["account_number"], 35000), signer=provider_signer(setup["walled_secret"]), expect=401)
    # The Toss Payments format: a malformed callback, and one whose secret proves nothing.
    call("POST", "/v1/providers/toss/notifications", {"status": "PAID", "orderId": paid["id"]}, signer=unsigned, expect=400)
    toss = {"createdAt": now.strftime("%Y-%m-%dT%H:%M:%S.000000"), "secret": "ps_wrong", "status": "DONE",
            "transactionKey": "SPECTOSS0001", "orderId": paid["id"], "mId": "tosspayments"}
    call("POST", "/v1/providers/toss/notifications", toss, signer=unsigned, expect=401)

    # Merchants read their deposits.
    window = f"from={(now - timedelta(hours=1)).isoformat()}&to={(now + timedelta(hours=1)).isoformat()}".replace("+", "%2B")
    listed = call("GET", "/v1/deposits", expect=200).json()
    require({first["deposit_id"], over["deposit_id"], taken["deposit_id"]} <= {d["id"] for d in listed["data"]}, f"the merchant's deposits are listed: {listed}")
    require(lost["deposit_id"] not in {d["id"] for d in listed["data"]}, "a deposit to nobody's number is no merchant's")
    matched = call("GET", f"/v1/deposits?status=matched&{window}&limit=5", expect=200).json()
    require([d["id"] for d in matched["data"]] == [first["deposit_id"]], f"status and time filters: {matched}")
    one = call("GET", f"/v1/deposits/{first['deposit_id']}", expect=200).json()
    require(one["credited_amount"] == 35000 and one["exception"] is None, f"the matched deposit: {one}")
    held = call("GET", f"/v1/deposits/{over['deposit_id']}", expect=200).json()
    require(held["exception"]["reason"] == "overpaid" and held["exception"]["amount"] == 5000, f"the overpayment: {held}")
    gone = call("GET", f"/v1/deposits/{taken['deposit_id']}", expect=200).json()
    require(gone["status"] == "reversed" and gone["reversed_at"] is not None, f"the reversed deposit: {gone}")
    own = call("GET", f"/v1/virtual-accounts/{paid['id']}/deposits?limit=10", expect=200).json()
    require(len(own["data"]) == 2, f"the account's two deposits: {own}")
    call("GET", "/v1/deposits?status=bogus", expect=400)
    call("GET", f"/v1/virtual-accounts/{paid['id']}/deposits?status=matched", expect=400)
    call("GET", "/v1/deposits", signer=merchant_signer(demo["key_id"], "wrong"), expect=401)
    call("GET", f"/v1/deposits/{UNKNOWN_DEPOSIT}", expect=404)
    call("GET", f"/v1/virtual-accounts/{UNKNOWN_ACCOUNT}/deposits", expect=404)

    # Operators resolve exceptions in the admin API: kim (admin, no `pii`) sees personal data
    # masked, lee (admin with `pii`) sees it whole, the viewer only reads.
    kim, lee, viewer = ops["kim"], ops["lee"], ops["viewer"]
    cases = call("GET", "/admin/v1/exceptions?merchant_id=unmatched", **kim.auth(csrf=False), expect=200).json()
    by_tx = {c["transaction_id"]: c for c in cases["data"]}
    require({"SPEC-U1", "SPEC-U2"} <= set(by_tx), f"the unknown number's deposits are listed: {cases}")
    require(by_tx["SPEC-U1"]["exception"]["reason"] == "unknown_account" and by_tx["SPEC-U1"]["merchant_id"] is None, f"an unmatched case: {by_tx['SPEC-U1']}")
    require(by_tx["SPEC-U1"]["depositor_name"] == "김*수", f"a depositor's name is masked without `pii`: {by_tx['SPEC-U1']}")
    whole = call("GET", "/admin/v1/exceptions?merchant_id=unmatched&limit=10", **lee.auth(csrf=False), expect=200).json()
    require({c["depositor_name"] for c in whole["data"]} == {"김철수"}, f"and whole with `pii`: {whole}")
    call("GET", "/admin/v1/exceptions?merchant_id=unmatched&state=open&limit=10", **viewer.auth(csrf=False), expect=200)
    call("GET", "/admin/v1/exceptions?merchant_id=unmatched", **kim.auth(csrf=False, cookie=False), expect=401)
    call("GET", "/admin/v1/exceptions?merchant_id=unmatched", signer=unsigned, cookies={"vaccount_admin": "not-a-session"}, expect=401)
    everyone = call("GET", "/admin/v1/exceptions?state=open", **kim.auth(csrf=False), expect=200).json()
    require({"SPEC-U1", "SPEC-U2"} <= {c["transaction_id"] for c in everyone["data"]}, f"without merchant_id, every owner's cases: {everyone}")
    call("GET", "/admin/v1/exceptions?state=closed", **kim.auth(csrf=False), expect=400)
    # Downloads need the `export` permission: a viewer is refused before the list is read.
    call("GET", "/admin/v1/exceptions?merchant_id=unmatched&format=xlsx", **viewer.auth(csrf=False), expect=403)
    written_off = f"/admin/v1/exceptions/{by_tx['SPEC-U1']['exception']['id']}/resolve"
    call("POST", written_off, {"burn": "x"}, **kim.auth(), expect=400)
    call("POST", written_off, {"write_off": "x", "assign": UNKNOWN_ACCOUNT}, **kim.auth(), expect=400)
    call("POST", written_off, {"write_off": "x"}, **kim.auth(cookie=False), expect=401)
    call("POST", written_off, {"write_off": "x"}, **kim.auth(csrf=False), expect=403)
    call("POST", written_off, {"write_off": "x"}, **kim.auth(), headers={"X-CSRF-Token": "0" * 64}, expect=403)
    call("POST", written_off, {"write_off": "x"}, **viewer.auth(), expect=403)
    done = call("POST", written_off, {"write_off": "test deposit by the bank"}, **kim.auth(), expect=200).json()
    require(done["exception"]["state"] == "resolved" and done["resolution_detail"] == {"action": "write_off", "note": "test deposit by the bank"}, f"written off: {done}")
    call("POST", written_off, {"write_off": "again"}, **kim.auth(), expect=409)
    call("POST", f"/admin/v1/exceptions/{UNKNOWN_EXCEPTION}/resolve", {"write_off": "x"}, **kim.auth(), expect=404)
    target = call("POST", "/v1/virtual-accounts", {"order_id": "SPEC-D3", "amount": 35000, "bank_code": "020"}, expect=201).json()
    assigned = call("POST", f"/admin/v1/exceptions/{by_tx['SPEC-U2']['exception']['id']}/resolve", {"assign": target["id"]}, **lee.auth(), expect=200).json()
    require(assigned["resolution_detail"] == {"action": "assign", "account": target["id"]} and assigned["merchant_id"] == demo["merchant_id"], f"assigned: {assigned}")
    require(call("GET", f"/v1/virtual-accounts/{target['id']}", expect=200).json()["status"] == "paid", "the assigned money pays the account")
    require(stray["deposit_id"] == assigned["id"], "the case is the deposit")
    taken_in = call("GET", f"/v1/virtual-accounts/{target['id']}/deposits", expect=200).json()
    require([d["id"] for d in taken_in["data"]] == [stray["deposit_id"]], f"the assigned deposit is listed with its account: {taken_in}")

    # Maker-checker: a merchant that requires a second operator's approval.
    approval = setup["approval"]
    strict = merchant_signer(approval["key_id"], approval["secret"])
    short = call("POST", "/v1/virtual-accounts", {"order_id": "SPEC-M1", "amount": 50000, "bank_code": "090"}, signer=strict, expect=201).json()
    call("POST", notices, deposit("SPEC-M1A", short["account_number"], 20000, bank_code="090"), signer=bank, expect=200)
    call("POST", notices, deposit("SPEC-M1B", short["account_number"], 10000, bank_code="090"), signer=bank, expect=200)
    theirs = call("GET", "/v1/deposits?status=exception", signer=strict, expect=200).json()
    require(len(theirs["data"]) == 2, f"the approval merchant's underpayments: {theirs}")
    open_cases = call("GET", f"/admin/v1/exceptions?merchant_id={approval['merchant_id']}&state=open", **kim.auth(csrf=False), expect=200).json()
    ids = {c["transaction_id"]: c["exception"]["id"] for c in open_cases["data"]}
    require(set(ids) == {"SPEC-M1A", "SPEC-M1B"}, f"open underpayments: {open_cases}")
    refund = {"bank_code": "088", "account_number": "110123456789", "holder": "홍길동"}
    pending = call("POST", f"/admin/v1/exceptions/{ids['SPEC-M1A']}/resolve", {"refund": refund}, **kim.auth(), expect=200).json()
    require(pending["exception"]["state"] == "pending_approval" and pending["proposal"]["by"] == "kim", f"a proposal waits: {pending}")
    require(pending["proposal"]["resolution"] == {"action": "refund", "bank_code": "088", "account_number": "110-***-***789", "holder": "홍*동"},
            f"the refund's holder and account are masked for kim, who has no `pii`: {pending['proposal']}")
    approve = f"/admin/v1/exceptions/{ids['SPEC-M1A']}/approve"
    call("POST", approve, **kim.auth(), expect=409)
    call("POST", approve, {"note": "x"}, **lee.auth(), expect=400)
    call("POST", approve, **lee.auth(cookie=False), expect=401)
    call("POST", approve, **lee.auth(csrf=False), expect=403)
    call("POST", approve, **viewer.auth(), expect=403)
    approved = call("POST", approve, **lee.auth(), expect=200).json()
    require(approved["exception"]["state"] == "resolved" and approved["resolution_detail"] == {"action": "refund", **refund} and approved["proposal"] is None,
            f"approved, and shown whole to lee, who has `pii`: {approved}")
    call("POST", f"/admin/v1/exceptions/{ids['SPEC-M1A']}/reject", **lee.auth(), expect=409)
    call("POST", f"/admin/v1/exceptions/{ids['SPEC-M1B']}/resolve", {"write_off": "customer paid twice"}, **kim.auth(), expect=200)
    reject = f"/admin/v1/exceptions/{ids['SPEC-M1B']}/reject"
    call("POST", reject, {"note": "x"}, **lee.auth(), expect=400)
    call("POST", reject, **lee.auth(cookie=False), expect=401)
    call("POST", reject, **kim.auth(), expect=409)
    rejected = call("POST", reject, {}, **lee.auth(), expect=200).json()
    require(rejected["exception"]["state"] == "open" and rejected["proposal"] is None, f"rejected: {rejected}")
    call("POST", f"/admin/v1/exceptions/{UNKNOWN_EXCEPTION}/approve", **lee.auth(), expect=404)
    call("POST", f"/admin/v1/exceptions/{UNKNOWN_EXCEPTION}/reject", **lee.auth(), expect=404)


def log_in(call, op):
    """`POST /admin/v1/session` with the operator's password and a fresh code; keeps the session."""
    answer = call("POST", "/admin/v1/session", {"name": op.name, "password": op.password, "code": op.code()}, signer=unsigned, expect=200)
    op.cookie = answer.headers["Set-Cookie"].split(";")[0].removeprefix("vaccount_admin=")
    op.csrf = answer.json()["csrf_token"]
    return answer


def enrol(call, op, token):
    """The enrolment an operator finishes on the dashboard: a password, then a first code."""
    started = call("POST", "/admin/v1/enrolment", {"token": token, "password": op.password}, signer=unsigned, expect=200).json()
    require(set(started) == {"totp_secret", "otpauth_uri"} and started["otpauth_uri"].startswith("otpauth://totp/"), f"an enrolment answers the TOTP secret: {started}")
    op.secret = started["totp_secret"]
    call("POST", "/admin/v1/enrolment/confirm", {"token": token, "code": op.current()}, signer=unsigned, expect=204)


def check_admin_identity(call, setup):
    """Operators made by `vaccount admin create-user` enrol and log in; the session's cookie and
    CSRF token carry every later admin request."""
    ops = {name: Operator(name) for name, _, _ in OPERATORS}
    tokens = setup["enrolments"]
    kim = ops["kim"]
    call("POST", "/admin/v1/enrolment", {"token": tokens["kim"], "password": "too short"}, signer=unsigned, expect=400)
    call("POST", "/admin/v1/enrolment", {"token": "no-such-token", "password": PASSWORD}, signer=unsigned, expect=401)
    call("POST", "/admin/v1/enrolment", {"token": tokens["kim"]}, signer=unsigned, expect=400)
    started = call("POST", "/admin/v1/enrolment", {"token": tokens["kim"], "password": PASSWORD}, signer=unsigned, expect=200).json()
    kim.secret = started["totp_secret"]
    call("POST", "/admin/v1/enrolment/confirm", {"token": tokens["kim"], "code": "12345"}, signer=unsigned, expect=400)
    # Not active before the first code: the right password and code are refused like wrong ones.
    call("POST", "/admin/v1/session", {"name": "kim", "password": PASSWORD, "code": kim.current()}, signer=unsigned, expect=401)
    # The first code is not spent: the operator may log in with it at once.
    call("POST", "/admin/v1/enrolment/confirm", {"token": tokens["kim"], "code": kim.current()}, signer=unsigned, expect=204)
    call("POST", "/admin/v1/enrolment/confirm", {"token": tokens["kim"], "code": kim.current()}, signer=unsigned, expect=401)
    for name in ("lee", "viewer", "choi"):
        enrol(call, ops[name], tokens[name])

    # One answer for a wrong name, password or code.
    call("POST", "/admin/v1/session", {"name": "kim", "password": "wrong password!", "code": kim.current()}, signer=unsigned, expect=401)
    call("POST", "/admin/v1/session", {"name": "nobody", "password": PASSWORD, "code": "000000"}, signer=unsigned, expect=401)
    call("POST", "/admin/v1/session", {"name": "kim", "password": PASSWORD}, signer=unsigned, expect=400)
    answer = log_in(call, kim)
    body = answer.json()
    require(set(body) == {"csrf_token", "operator", "expires_at"} and body["operator"] == {"name": "kim", "role": "admin", "pii": False},
            f"a login answers the CSRF token, the operator and the expiry: {body}")
    cookie = answer.headers["Set-Cookie"]
    flags = [part.strip() for part in cookie.split(";")[1:]]
    require(cookie.startswith("vaccount_admin=") and {"HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"} <= set(flags),
            f"the session cookie is HttpOnly, Secure, SameSite=Strict, Path=/admin: {cookie}")
    require(answer.headers.get("Cache-Control") == "no-store", "a login answer is not cached")
    for name in ("lee", "viewer", "choi"):
        log_in(call, ops[name])
    me = call("GET", "/admin/v1/session", **kim.auth(csrf=False), expect=200).json()
    require(me["csrf_token"] == kim.csrf and me["operator"]["name"] == "kim", f"the session names its operator: {me}")
    call("GET", "/admin/v1/session", signer=unsigned, expect=401)
    return ops


def check_admin_work(call, ops, events):
    """Resends, incidents, operators managed by a super_admin (step-up codes, allowlists, a
    lockout and the incident it raises, an unlock, a password change), the audit log, logout."""
    kim, lee, viewer, choi = ops["kim"], ops["lee"], ops["viewer"], ops["choi"]
    resent = call("POST", f"/admin/v1/events/{events[0]}/resend", **kim.auth(), expect=202).json()
    require(resent["event_id"] == events[0] and resent["resend_request_id"].startswith("evt_"), f"an operator's resend is queued: {resent}")
    call("POST", f"/admin/v1/events/{events[0]}/resend", {"again": True}, **kim.auth(), expect=400)
    call("POST", f"/admin/v1/events/{events[0]}/resend", **viewer.auth(), expect=403)
    call("POST", f"/admin/v1/events/{UNKNOWN_EVENT}/resend", **kim.auth(), expect=404)

    # Operators: a super_admin's business.
    listed = call("GET", "/admin/v1/operators", **choi.auth(csrf=False), expect=200).json()
    require({o["name"] for o in listed["data"]} == {"kim", "lee", "viewer", "choi"} and all(o["status"] == "active" for o in listed["data"]), f"the operators: {listed}")
    call("GET", "/admin/v1/operators?limit=2", **choi.auth(csrf=False), expect=200)
    call("GET", "/admin/v1/operators", **kim.auth(csrf=False), expect=403)
    call("GET", "/admin/v1/operators/lee", **choi.auth(csrf=False), expect=200)
    call("GET", "/admin/v1/operators/nobody", **choi.auth(csrf=False), expect=404)
    park = Operator("park")
    call("POST", "/admin/v1/operators", {"name": "park", "role": "viewer"}, **choi.auth(), expect=403)
    call("POST", "/admin/v1/operators", {"name": "park", "role": "boss"}, **choi.auth(), expect=400)
    call("POST", "/admin/v1/operators", {"name": "park", "role": "viewer"}, **kim.auth(), headers={"X-TOTP-Code": kim.current()}, expect=403)
    created = call("POST", "/admin/v1/operators", {"name": "park", "role": "viewer"}, **choi.auth(), headers={"X-TOTP-Code": choi.code()}, expect=201).json()
    require({k: created[k] for k in ("operator", "role", "pii")} == {"operator": "park", "role": "viewer", "pii": False}, f"an operator made by a super_admin: {created}")
    call("PATCH", "/admin/v1/operators/viewer", {"role": "admin"}, **choi.auth(), expect=403)
    call("PATCH", "/admin/v1/operators/viewer", {"allowed_ips": ["no address"]}, **choi.auth(), expect=400)
    call("PATCH", "/admin/v1/operators/choi", {"allowed_ips": []}, **choi.auth(), expect=409)
    call("PATCH", "/admin/v1/operators/nobody", {"allowed_ips": []}, **choi.auth(), expect=404)
    fenced = call("PATCH", "/admin/v1/operators/viewer", {"allowed_ips": ["192.0.2.0/24"]}, **choi.auth(), expect=200).json()
    require(fenced["allowed_ips"] == ["192.0.2.0/24"], f"the viewer's own allowlist: {fenced}")
    call("GET", "/admin/v1/session", **viewer.auth(csrf=False), expect=403)
    opened = call("PATCH", "/admin/v1/operators/viewer", {"allowed_ips": ["127.0.0.1", "::1"]}, **choi.auth(), expect=200).json()
    require(opened["allowed_ips"] == ["127.0.0.1/32", "::1/128"], f"addresses are kept as CIDR blocks: {opened}")
    call("GET", "/admin/v1/session", **viewer.auth(csrf=False), expect=200)

    # Five failures in a row lock an operator for 15 minutes, even against the right password,
    # and raise an ops incident.
    enrol(call, park, created["enrolment_token"])
    for _ in range(4):
        call("POST", "/admin/v1/session", {"name": "park", "password": "wrong password!", "code": "000000"}, signer=unsigned, expect=401)
    call("POST", "/admin/v1/session", {"name": "park", "password": "wrong password!", "code": "000000"}, signer=unsigned, expect=423)
    call("POST", "/admin/v1/session", {"name": "park", "password": PASSWORD, "code": park.current()}, signer=unsigned, expect=423)
    call("POST", "/admin/v1/password", {"name": "park", "password": PASSWORD, "code": "000000", "new_password": "x" * 12}, signer=unsigned, expect=423)
    locked = call("GET", "/admin/v1/operators/park", **choi.auth(csrf=False), expect=200).json()
    require(locked["locked_until"] is not None and locked["failures"] == 5, f"park is locked: {locked}")
    incident = None
    for _ in range(100):
        page = call("GET", "/admin/v1/incidents?status=open", **viewer.auth(csrf=False), expect=200).json()
        incident = next((i for i in page["data"] if i["kind"] == "operator.locked" and i["subject"] == "park"), None)
        if incident:
            break
        time.sleep(0.2)
    require(incident is not None, "the lock raised an operator.locked incident")
    call("GET", "/admin/v1/incidents?limit=5", **viewer.auth(csrf=False), expect=200)
    call("GET", "/admin/v1/incidents?status=asleep", **viewer.auth(csrf=False), expect=400)
    call("GET", f"/admin/v1/incidents/{incident['id']}", **viewer.auth(csrf=False), expect=200)
    call("GET", f"/admin/v1/incidents/{UNKNOWN_INCIDENT}", **viewer.auth(csrf=False), expect=404)
    acknowledge = f"/admin/v1/incidents/{incident['id']}/acknowledge"
    call("POST", acknowledge, **viewer.auth(), expect=403)
    call("POST", acknowledge, {"note": "x"}, **kim.auth(), expect=400)
    taken = call("POST", acknowledge, **kim.auth(), expect=200).json()
    require(taken["status"] == "acknowledged" and taken["acknowledged_by"] == "kim", f"acknowledged: {taken}")
    call("POST", acknowledge, **kim.auth(), expect=409)
    call("POST", f"/admin/v1/incidents/{UNKNOWN_INCIDENT}/acknowledge", **kim.auth(), expect=404)
    closed = call("POST", f"/admin/v1/incidents/{incident['id']}/resolve", {}, **kim.auth(), expect=200).json()
    require(closed["status"] == "resolved" and closed["resolved_by"] == "kim", f"resolved: {closed}")
    call("POST", f"/admin/v1/incidents/{incident['id']}/resolve", **kim.auth(), expect=409)
    call("POST", f"/admin/v1/incidents/{UNKNOWN_INCIDENT}/resolve", **kim.auth(), expect=404)
    call("POST", "/admin/v1/operators/park/unlock", **kim.auth(), expect=403)
    unlocked = call("POST", "/admin/v1/operators/park/unlock", **choi.auth(), expect=200).json()
    require(unlocked["locked_until"] is None and unlocked["failures"] == 0, f"unlocked: {unlocked}")
    call("POST", "/admin/v1/operators/nobody/unlock", **choi.auth(), expect=404)

    # A password change: at least 12 characters, none of the last five, with a code.
    call("POST", "/admin/v1/password", {"name": "park", "password": PASSWORD, "code": "000000", "new_password": "short"}, signer=unsigned, expect=400)
    # Refused after the code is checked, before it is spent.
    call("POST", "/admin/v1/password", {"name": "park", "password": PASSWORD, "code": park.current(), "new_password": PASSWORD}, signer=unsigned, expect=400)
    call("POST", "/admin/v1/password", {"name": "park", "password": PASSWORD, "code": park.code(), "new_password": "a brand new passphrase"}, signer=unsigned, expect=204)
    call("POST", "/admin/v1/session", {"name": "park", "password": PASSWORD, "code": "000000"}, signer=unsigned, expect=401)

    # The audit log: a super_admin's to read.
    entries = call("GET", "/admin/v1/audit?limit=100", **choi.auth(csrf=False), expect=200).json()["data"]
    actions = {e["action"] for e in entries}
    expected = {"login.succeeded", "login.failed", "login.locked", "operator.created", "operator.enrolled", "operator.updated",
                "operator.unlocked", "password.changed", "exception.resolved", "exception.approved", "exception.rejected",
                "event.resent", "incident.acknowledged", "incident.resolved", "pii.unmasked"}
    require(expected <= actions, f"the audit log holds every kind of action done here; missing {expected - actions}")
    require([e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True), "newest first")
    require(all(e["prev_hash"] == older["hash"] for e, older in zip(entries, entries[1:])), "each entry carries the hash of the one before")
    call("GET", "/admin/v1/audit?limit=2", **choi.auth(csrf=False), expect=200)
    call("GET", "/admin/v1/audit", **kim.auth(csrf=False), expect=403)
    call("GET", "/admin/v1/audit?limit=0", **choi.auth(csrf=False), expect=400)

    # Logging out ends the session: its cookie is refused from then on.
    call("DELETE", "/admin/v1/session", **lee.auth(csrf=False), expect=403)
    bye = call("DELETE", "/admin/v1/session", **lee.auth(), expect=204)
    require("Max-Age=0" in bye.headers.get("Set-Cookie", ""), f"logout clears the cookie: {bye.headers.get('Set-Cookie')}")
    call("GET", "/admin/v1/session", **lee.auth(csrf=False), expect=401)
    call("GET", "/admin/v1/exceptions?merchant_id=unmatched", **lee.auth(csrf=False), expect=401)


def check_admin_lists(call, ops, setup):
    """The lists across merchants with their filters, details and downloads, the home page's
    figures, the pool, merchants created and changed (step-up for fee terms), key rotation, a
    dead-letter resend and a settlement file."""
    kim, viewer, choi = ops["kim"], ops["viewer"], ops["choi"]
    read = viewer.auth(csrf=False)
    overview = call("GET", "/admin/v1/overview", **read, expect=200).json()
    require(len(overview["series"]["hourly"]) == 24 and len(overview["series"]["daily"]) == 30, f"the charts' buckets: {overview['series']}")
    call("GET", "/admin/v1/overview?day=today", **read, expect=400)
    pool = call("GET", "/admin/v1/pool", **read, expect=200).json()
    require(len(pool["data"]) >= 1 and all(p["bank_name"] for p in pool["data"]), f"the pools: {pool}")

    merchants = call("GET", "/admin/v1/merchants", **read, expect=200).json()["data"]
    call("GET", "/admin/v1/merchants?name=mall&limit=1", **read, expect=200)
    call("GET", "/admin/v1/merchants?colour=red", **read, expect=400)
    call("GET", f"/admin/v1/merchants/{merchants[0]['id']}", **read, expect=200)
    call("GET", "/admin/v1/merchants/mch_01KWFX0000000000000000MC99", **read, expect=404)
    for path in ("/admin/v1/virtual-accounts?limit=2", "/admin/v1/virtual-accounts?bank_code=004&min_amount=1000",
                 "/admin/v1/deposits", "/admin/v1/deposits?merchant_id=unmatched&depositor=%EA%B9%80",
                 "/admin/v1/webhook-attempts?outcome=failed", f"/admin/v1/webhook-endpoints?merchant_id={merchants[0]['id']}",
                 "/admin/v1/notices", "/admin/v1/incidents?from=2026-01-01T00:00:00%2B09:00", "/admin/v1/settlements?from=2026-11-01&to=2026-11-24",
                 "/admin/v1/reconciliation-reports?from=2026-11-01&to=2026-11-24"):
        call("GET", path, **kim.auth(csrf=False), expect=200)
    for path in ("/admin/v1/virtual-accounts?status=lost", "/admin/v1/deposits?min_amount=-1", "/admin/v1/webhook-attempts?outcome=maybe",
                 "/admin/v1/webhook-endpoints", "/admin/v1/notices?channel=fax", "/admin/v1/settlements?from=yesterday"):
        call("GET", path, **kim.auth(csrf=False), expect=400)
    account = call("GET", "/admin/v1/virtual-accounts?limit=1", **read, expect=200).json()["data"][0]
    detail = call("GET", f"/admin/v1/virtual-accounts/{account['id']}", **kim.auth(csrf=False), expect=200).json()
    require(detail["merchant_id"] and isinstance(detail["deposits"], list), f"an account with whose it is: {detail}")
    call("GET", f"/admin/v1/virtual-accounts/{UNKNOWN_ACCOUNT}", **read, expect=404)
    deposit = call("GET", "/admin/v1/deposits?limit=1", **read, expect=200).json()["data"][0]
    call("GET", f"/admin/v1/deposits/{deposit['id']}", **read, expect=200)
    call("GET", f"/admin/v1/deposits/{UNKNOWN_DEPOSIT}", **read, expect=404)
    sheet = call("GET", "/admin/v1/deposits?format=xlsx", **kim.auth(csrf=False), expect=200)
    require(sheet.content[:2] == b"PK" and "attachment" in sheet.headers.get("Content-Disposition", ""), "a download is an XLSX attachment")
    call("GET", "/admin/v1/deposits?format=xlsx", **read, expect=403)
    call("GET", "/admin/v1/audit?action=list.exported&operator=kim", **choi.auth(csrf=False), expect=200)
    call("GET", "/admin/v1/audit?action=nothing", **choi.auth(csrf=False), expect=400)

    # Merchants: a super_admin's; fee terms behind a step-up code; keys rotated.
    body = {"name": "Spec Store", "fee_rate_bps": 150, "payout_days": 3}
    call("POST", "/admin/v1/merchants", body, **choi.auth(), expect=403)
    call("POST", "/admin/v1/merchants", {"name": "x", "colour": "red"}, **choi.auth(), expect=400)
    call("POST", "/admin/v1/merchants", body, **kim.auth(), headers={"X-TOTP-Code": kim.current()}, expect=403)
    created = call("POST", "/admin/v1/merchants", body, **choi.auth(), headers={"X-TOTP-Code": choi.code()}, expect=201).json()
    store = f"/admin/v1/merchants/{created['merchant']['id']}"
    call("PATCH", store, {"require_exception_approval": False}, **choi.auth(), expect=403)
    changed = call("PATCH", store, {"accept_late": True, "name_mismatch": "hold"}, **choi.auth(), headers={"X-TOTP-Code": choi.code()}, expect=200).json()
    require(changed["accept_late"] and changed["name_mismatch"] == "hold", f"policies changed: {changed}")
    call("PATCH", store, {"fee_per_deposit": 250}, **choi.auth(), expect=403)
    call("PATCH", store, {"fee_per_deposit": 250}, **choi.auth(), headers={"X-TOTP-Code": choi.code()}, expect=200)
    call("PATCH", store, {"due_soon_lead": 3600}, **choi.auth(), expect=400)
    call("PATCH", "/admin/v1/merchants/mch_01KWFX0000000000000000MC99", {"accept_late": True}, **choi.auth(), headers={"X-TOTP-Code": choi.code()}, expect=404)
    added = call("POST", f"{store}/keys", **choi.auth(), expect=201).json()
    call("POST", f"{store}/keys", **choi.auth(), expect=409)
    call("DELETE", f"{store}/keys/{created['key_id']}", **choi.auth(), expect=204)
    call("DELETE", f"{store}/keys/{added['key_id']}", **choi.auth(), expect=409)
    call("DELETE", f"{store}/keys/{created['key_id']}", **choi.auth(), expect=404)

    resent = call("POST", f"/admin/v1/webhook-endpoints/{UNKNOWN_ENDPOINT}/resend-dead-letters", **kim.auth(), expect=202).json()
    require(resent["resent"] == [] and resent["more"] is False, f"nothing to resend: {resent}")
    call("POST", f"/admin/v1/webhook-endpoints/{UNKNOWN_ENDPOINT}/resend-dead-letters", **viewer.auth(), expect=403)

    approval = setup["approval"]["merchant_id"]
    settled = call("GET", f"/admin/v1/settlements?merchant_id={approval}&from=2026-11-24&to=2026-11-24", **read, expect=200).json()["data"]
    for f in settled[0]["files"]:
        got = call("GET", f"/admin/v1/settlements/{approval}/2026-11-24/files/{f['name']}", **kim.auth(csrf=False), expect=200)
        require(hashlib.sha256(got.content).hexdigest() == f["sha256"], f"{f['name']} as the merchant gets it")
    call("GET", f"/admin/v1/settlements/{approval}/2026-11-24/files/{settled[0]['files'][0]['name']}", **read, expect=403)
    call("GET", f"/admin/v1/settlements/{approval}/2026-11-24/files/secrets.txt", **kim.auth(csrf=False), expect=404)


def check_settlements(call, demo, setup):
    """The day `vaccount settle` wrote for the approval merchant before the server started."""
    approval = setup["approval"]
    mall = merchant_signer(approval["key_id"], approval["secret"])
    listed = call("GET", "/v1/settlements?from=2026-11-01&to=2026-11-24", signer=mall, expect=200).json()
    # serve's own nightly run may have settled yesterday too, depending on the hour.
    require([s["date"] for s in listed["data"]][:1] == ["2026-11-24"], f"the settled day first: {listed}")
    day = listed["data"][0]
    require(day["payout_date"] == "2026-11-26" and day["deposit_count"] == 0, f"an empty Tuesday pays out Thursday: {day}")
    for f in day["files"]:
        got = call("GET", f"/v1/settlements/2026-11-24/files/{f['name']}", signer=mall, expect=200)
        require(len(got.content) == f["bytes"] and hashlib.sha256(got.content).hexdigest() == f["sha256"], f"{f['name']} is what the listing says")
    paged = call("GET", "/v1/settlements?from=2026-11-01&to=2026-11-24&limit=1", signer=mall, expect=200).json()
    require([s["date"] for s in paged["data"]] == ["2026-11-24"], f"a page of one: {paged}")
    call("GET", "/v1/settlements?limit=0", signer=mall, expect=400)
    call("GET", "/v1/settlements?cursor=garbage", signer=mall, expect=400)
    call("GET", "/v1/settlements?from=2026-11-30&to=2026-11-01", signer=mall, expect=400)
    call("GET", "/v1/settlements?from=yesterday", signer=mall, expect=400)
    call("GET", "/v1/settlements?colour=red", signer=mall, expect=400)
    call("GET", "/v1/settlements", signer=merchant_signer(demo["key_id"], "wrong"), expect=401)
    call("GET", "/v1/settlements/2026-11-24/files/settlement-20261124.csv", expect=404)
    call("GET", "/v1/settlements/2026-11-24/files/secrets.txt", signer=mall, expect=404)
    call("GET", "/v1/settlements/24-11-2026/files/manifest.json", signer=mall, expect=404)


def check_webhooks(call, demo):
    """Webhook endpoints, their secrets and attempt logs, the events feed and resends. The
    server runs with private webhooks allowed, so a loopback URL on a closed port stands in
    for the merchant's receiver (nothing listens there; deliveries, if a worker runs, fail)."""
    hook = "http://127.0.0.1:9/hooks/vaccount"
    subscribe = {"url": hook, "event_types": ["virtual_account.paid", "deposit.matched"]}
    created = call("POST", "/v1/webhook-endpoints", subscribe, {"Idempotency-Key": "spec-wh-1"}, expect=201).json()
    require(created["secret"].startswith("whsec_") and set(created["event_types"]) == set(subscribe["event_types"]), f"an endpoint with its secret: {created}")
    replayed = call("POST", "/v1/webhook-endpoints", subscribe, {"Idempotency-Key": "spec-wh-1"}, expect=201).json()
    require(replayed == created, f"a replayed create answers the same: {replayed}")
    everything = call("POST", "/v1/webhook-endpoints", {"url": hook}, expect=201).json()
    require(everything["event_types"] is None, f"no event_types means all: {everything}")
    call("POST", "/v1/webhook-endpoints", {"url": "ftp://example.com/x"}, expect=400)
    call("POST", "/v1/webhook-endpoints", {"url": "http://user:pw@127.0.0.1:9/x"}, expect=400)
    call("POST", "/v1/webhook-endpoints", {"url": hook, "event_types": ["pool.low"]}, expect=400)
    call("POST", "/v1/webhook-endpoints", {"url": hook, "event_types": []}, expect=400)
    call("POST", "/v1/webhook-endpoints", {"url": hook, "colour": "red"}, expect=400)
    call("POST", "/v1/webhook-endpoints", {"url": hook}, signer=merchant_signer(demo["key_id"], "wrong"), expect=401)
    listed = call("GET", "/v1/webhook-endpoints", expect=200).json()
    require([e["id"] for e in listed["data"]] == [created["id"], everything["id"]], f"endpoints in creation order: {listed}")
    require(all("secret" not in e for e in listed["data"]), "a listing shows no secrets")
    call("GET", "/v1/webhook-endpoints?limit=0", expect=400)
    rotated = call("POST", f"/v1/webhook-endpoints/{created['id']}/rotate-secret", expect=200).json()
    require(rotated["secret"] != created["secret"] and rotated["id"] == created["id"], f"a new secret: {rotated}")
    call("POST", f"/v1/webhook-endpoints/{created['id']}/rotate-secret", {"x": 1}, expect=400)
    call("POST", f"/v1/webhook-endpoints/{UNKNOWN_ENDPOINT}/rotate-secret", expect=404)
    call("GET", f"/v1/webhook-endpoints/{created['id']}/attempts?limit=5", expect=200)
    call("GET", f"/v1/webhook-endpoints/{created['id']}/attempts?status=x", expect=400)
    call("GET", f"/v1/webhook-endpoints/{UNKNOWN_ENDPOINT}/attempts", expect=404)
    for i in range(8):
        call("POST", "/v1/webhook-endpoints", {"url": f"{hook}/{i}"}, expect=201)
    call("POST", "/v1/webhook-endpoints", {"url": hook}, expect=409)
    call("DELETE", f"/v1/webhook-endpoints/{everything['id']}", expect=204)
    call("DELETE", f"/v1/webhook-endpoints/{everything['id']}", expect=404)
    call("DELETE", f"/v1/webhook-endpoints/{UNKNOWN_ENDPOINT}", signer=merchant_signer(demo["key_id"], "wrong"), expect=401)

    # The events the earlier checks caused, oldest first, once they are older than the feed's
    # horizon (VACCOUNT_EVENT_FEED_HORIZON, 5 s by default; docs/decisions.md, 21).
    time.sleep(5.5)
    events = call("GET", "/v1/events?limit=100", expect=200).json()["data"]
    ids = [e["id"] for e in events]
    # Oldest first by feed position (when their writes reached storage), which only roughly
    # follows id order; the later checks hold every way of reading to that one order.
    require(len(ids) >= 5 and len(set(ids)) == len(ids), f"the merchant's events, each once: {ids}")
    later = call("GET", f"/v1/events?after={ids[0]}&limit=100", expect=200).json()["data"]
    require([e["id"] for e in later] == ids[1:], "`after` starts after that event")
    paid = call("GET", "/v1/events?type=virtual_account.paid", expect=200).json()["data"]
    require(paid and all(e["type"] == "virtual_account.paid" for e in paid), f"a type filter: {paid}")
    paged, target = [], "/v1/events?limit=2"
    for _ in range(100):
        page = call("GET", target, expect=200).json()
        paged += [e["id"] for e in page["data"]]
        if page["next_cursor"] is None:
            break
        target = f"/v1/events?limit=2&cursor={page['next_cursor']}"
    require(paged[:len(ids)] == ids, "cursor paging walks the same events")
    call("GET", "/v1/events?type=pool.low", expect=400)
    call("GET", "/v1/events?after=evt_nope", expect=400)
    call("GET", "/v1/events", signer=merchant_signer(demo["key_id"], "wrong"), expect=401)
    resent = call("POST", f"/v1/events/{ids[0]}/resend", headers={"Idempotency-Key": "spec-rs-1"}, expect=202).json()
    require(resent["event_id"] == ids[0] and resent["resend_id"].startswith("evt_"), f"a resend is queued: {resent}")
    call("POST", f"/v1/events/{ids[0]}/resend", body={"again": True}, expect=400)
    call("POST", f"/v1/events/{UNKNOWN_EVENT}/resend", expect=404)
    after_resend = call("GET", f"/v1/events?after={ids[-1]}", expect=200).json()["data"]
    require(all(e["type"] != "webhook.resend_requested" for e in after_resend), "resend requests are not merchant events")
    return ids


if __name__ == "__main__":
    main(sys.argv[1])
