"""Writes the API Gateway (HTTP API, payload 2.0) fixtures of the HTTP functions, the
scheduler input of the scheduled ones, and the DynamoDB Streams batches of the event publisher.

Each merchant request is signed with the fixture merchant's key below, at FIXTURE_TIME; the
functions' tests seed that merchant and stand their clock at that instant. Provider notices are
signed with PROVIDER_SECRET, which the tests give provider `bank`. Stream records carry event
items sealed the way store::sealed seals them, with the tests' data key (testing::test_key).
Run it again after changing a request: python3 events/generate.py (needs `cryptography`).
"""

import base64
import hashlib
import hmac
import json
from pathlib import Path

MERCHANT_ID = "mch_01KWFX0000000000000000MCH1"
KEY_ID = "key_01KWFX0000000000000000KEY1"
SECRET = "fixture-secret-do-not-use-in-production"
ACCOUNT_ID = "va_01KWFX0000000000000000VA01"
FIXTURE_TIME = 1795600000  # 2026-11-25T18:46:40+09:00
PROVIDER_SECRET = "fixture-provider-secret-do-not-use-in-production"
DATA_KEY_SECRET = "test-data-key-secret-with-enough-entropy-0123456789"
HERE = Path(__file__).parent


def sign(method, path_and_query, body):
    digest = hashlib.sha256(body.encode()).hexdigest()
    canonical = f"{FIXTURE_TIME}\n{method}\n{path_and_query}\n{digest}"
    return hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def provider_sign(body):
    return hmac.new(PROVIDER_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()


def event(method, path, query="", body="", headers=None, signature=None, route=None, merchant=True):
    target = path + (f"?{query}" if query else "")
    all_headers = {"host": "abc123.execute-api.ap-northeast-2.amazonaws.com", "user-agent": "fixture/1.0"}
    # Providers sign the body alone (X-Provider-Signature), so their notices carry no merchant headers.
    if merchant:
        all_headers["x-va-key-id"] = KEY_ID
        all_headers["x-va-timestamp"] = str(FIXTURE_TIME)
        all_headers["x-va-signature"] = signature or sign(method, target, body)
    if body:
        all_headers["content-type"] = "application/json"
        all_headers["content-length"] = str(len(body.encode()))
    all_headers.update(headers or {})
    return {
        "version": "2.0",
        "routeKey": route or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.ap-northeast-2.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10", "userAgent": "fixture/1.0"},
            "requestId": "fixture-request",
            "routeKey": route or f"{method} {path}",
            "stage": "$default",
            "time": "25/Nov/2026:09:46:40 +0000",
            "timeEpoch": FIXTURE_TIME * 1000,
        },
        "body": body or None,
        "isBase64Encoded": False,
    }


def write(function, name, value):
    path = HERE / function / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


issue_body = json.dumps(
    {"order_id": "FIXTURE-0001", "amount": 35000, "bank_code": "004", "depositor_name": "홍길동",
     "customer": {"name": "홍길동", "phone": "01012345678"}},
    ensure_ascii=False, separators=(",", ":"),
)
write("issue-virtual-account", "issue", event("POST", "/v1/virtual-accounts", body=issue_body, headers={"idempotency-key": "fixture-1"}))
write("issue-virtual-account", "bad-signature", event("POST", "/v1/virtual-accounts", body=issue_body, signature="0" * 64))
bad_body = json.dumps({"order_id": "has space", "amount": "35000", "bank_code": "999", "colour": "red"}, separators=(",", ":"))
write("issue-virtual-account", "invalid-body", event("POST", "/v1/virtual-accounts", body=bad_body))
write("get-virtual-account", "get", event("GET", f"/v1/virtual-accounts/{ACCOUNT_ID}", route="GET /v1/virtual-accounts/{id}"))
write("get-virtual-account", "list", event("GET", "/v1/virtual-accounts", query="status=waiting&limit=5"))
write("get-virtual-account", "get-unknown", event("GET", "/v1/virtual-accounts/va_01KWFX0000000000000000VA99", route="GET /v1/virtual-accounts/{id}"))
write("close-virtual-account", "close", event("POST", f"/v1/virtual-accounts/{ACCOUNT_ID}/close", route="POST /v1/virtual-accounts/{id}/close"))

# A deposit of the whole amount to the account seed_fixture_account issues, before its due time.
notice_path, notice_route = "/v1/providers/bank/notifications", "POST /v1/providers/{provider_id}/notifications"
deposit_body = json.dumps(
    {"type": "deposit", "transaction_id": "T-FIXTURE-1", "bank_code": "004", "account_number": "55500000000099",
     "amount": 35000, "depositor_name": "홍길동", "occurred_at": "2026-11-25T18:40:00+09:00"},
    ensure_ascii=False, separators=(",", ":"),
)
write("deposit-callback", "deposit", event("POST", notice_path, body=deposit_body, route=notice_route, merchant=False,
                                           headers={"x-provider-signature": provider_sign(deposit_body)}))
write("deposit-callback", "bad-signature", event("POST", notice_path, body=deposit_body, route=notice_route, merchant=False,
                                                 headers={"x-provider-signature": "0" * 64}))
reversal_body = json.dumps(
    {"type": "reversal", "transaction_id": "T-FIXTURE-1R", "original_transaction_id": "T-FIXTURE-1",
     "occurred_at": "2026-11-25T18:45:00+09:00"},
    separators=(",", ":"),
)
write("deposit-callback", "reversal", event("POST", notice_path, body=reversal_body, route=notice_route, merchant=False,
                                            headers={"x-provider-signature": provider_sign(reversal_body)}))
write("get-deposits", "list", event("GET", "/v1/deposits", query="limit=5"))
write("get-deposits", "account-deposits", event("GET", f"/v1/virtual-accounts/{ACCOUNT_ID}/deposits", route="GET /v1/virtual-accounts/{id}/deposits"))
write("get-deposits", "get-unknown", event("GET", "/v1/deposits/dep_01KWFX0000000000000000DP99", route="GET /v1/deposits/{id}"))
# EventBridge Scheduler delivers the schedule's Input as it is; template.yaml sets this one.
write("expiry-sweeper", "scheduled", {"source": "vaccount.scheduler", "task": "expiry-sweep"})
# The nightly export settles yesterday (KST); an operator re-runs one day with {"date": …}.
write("settlement-exporter", "scheduled", {"source": "vaccount.scheduler", "task": "settlement-export"})
write("settlement-exporter", "rerun", {"date": "2026-11-25"})
# The reconciler's schedule, and an operator's re-run of one provider's day.
write("reconciler", "scheduled", {"source": "vaccount.scheduler", "task": "reconcile"})
write("reconciler", "rerun", {"provider": "bank", "date": "2026-11-25"})
write("settlements-api", "list", event("GET", "/v1/settlements", query="from=2026-11-01&to=2026-11-30"))
write("settlements-api", "file", event("GET", "/v1/settlements/2026-11-25/files/settlement-20261125.csv",
                                       route="GET /v1/settlements/{date}/files/{name}"))
write("settlements-api", "file-unknown", event("GET", "/v1/settlements/2026-11-24/files/settlement-20261124.csv",
                                               route="GET /v1/settlements/{date}/files/{name}"))

# The admin function: one route for everything under /admin/ (template.yaml). A browser's cookies
# arrive in payload 2.0's `cookies`, not in the headers. The tests store a session under this
# cookie value and CSRF token for the fixture operator `kim`.
ADMIN_COOKIE = "fixture-admin-session-do-not-use-in-production"
ADMIN_CSRF = "fixture-admin-csrf-do-not-use-in-production"
ADMIN_ROUTE = "ANY /admin/{proxy+}"
UNKNOWN_EXCEPTION = "exc_01KWFX0000000000000000EX99"


def admin_event(method, path, query="", body="", csrf=False, session=True):
    request = event(method, path, query=query, body=body, route=ADMIN_ROUTE, merchant=False,
                    headers={"x-csrf-token": ADMIN_CSRF} if csrf else None)
    request["pathParameters"] = {"proxy": path.removeprefix("/admin/")}
    if session:
        request["cookies"] = [f"vaccount_admin={ADMIN_COOKIE}"]
    return request


login_body = json.dumps({"name": "kim", "password": "not the password", "code": "000000"}, separators=(",", ":"))
write("admin", "login-wrong", admin_event("POST", "/admin/v1/session", body=login_body, session=False))
write("admin", "exceptions", admin_event("GET", "/admin/v1/exceptions", query="merchant_id=unmatched&limit=5"))
write("admin", "exceptions-no-session", admin_event("GET", "/admin/v1/exceptions", query="merchant_id=unmatched", session=False))
resolve_path = f"/admin/v1/exceptions/{UNKNOWN_EXCEPTION}/resolve"
write_off_body = json.dumps({"write_off": "test deposit by the bank"}, separators=(",", ":"))
write("admin", "resolve", admin_event("POST", resolve_path, body=write_off_body, csrf=True))
write("admin", "resolve-no-csrf", admin_event("POST", resolve_path, body=write_off_body))


# ---------------------------------------------------------------- event-publisher (Streams)

def to_attr(value):
    """The serde form of the store's `Attr` for a JSON value: what a sealed `data` holds."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return {"Bool": value}
    if isinstance(value, int):
        return {"N": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_attr(v) for v in value]}
    return {"M": {k: to_attr(v) for k, v in sorted(value.items())}}


def seal(pk, sk, record):
    """store::sealed: AES-256-GCM under SHA-256 of the secret, the item key as AAD, `v1.` + base64
    of nonce and ciphertext. The nonce is derived from the key so the fixtures are reproducible;
    the service draws a random one."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = hashlib.sha256(DATA_KEY_SECRET.encode()).digest()
    aad = pk.encode() + b"\0" + sk.encode()
    nonce = hashlib.sha256(b"fixture-nonce\0" + aad).digest()[:12]
    plaintext = json.dumps(to_attr(record), ensure_ascii=False, separators=(",", ":")).encode()
    sealed = AESGCM(key).encrypt(nonce, plaintext, aad)
    return "v1." + base64.b64encode(nonce + sealed).decode()


def outbox_event(event_id, kind, merchant_id, data):
    return {"id": event_id, "type": kind, "occurred_at": "2026-11-25T18:46:40+09:00", "merchant_id": merchant_id, "data": data}


def event_image(event, sealed_under=None):
    """An outbox event item as stored (repo::outbox): `sealed_under` seals it under another
    item's key, as a record copied from elsewhere would be."""
    pk, sk = f"EVT#{event['id']}", "EVENT"
    owner = event["merchant_id"] or "ops"
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "kind": {"S": "event"},
        "gsi1pk": {"S": f"EVENTS#{owner}#0"},
        "gsi1sk": {"S": event["id"]},
        "data": {"S": seal(*(sealed_under or (pk, sk)), event)},
    }


def stream_record(sequence, name, image):
    return {
        "eventID": f"fixture-{sequence}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ap-northeast-2",
        "dynamodb": {
            "ApproximateCreationDateTime": FIXTURE_TIME,
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": f"4000000000000000000000{sequence:04d}",
            "SizeBytes": 512,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": "arn:aws:dynamodb:ap-northeast-2:123456789012:table/vaccount-dev/stream/2026-11-25T00:00:00.000",
    }


# The fixture account (seed_fixture_account) paid in full by the fixture deposit, as the
# merchant sees them (domain::view): the `data` the deposit's events carry.
paid_account = {
    "id": ACCOUNT_ID, "order_id": "FIXTURE-SEEDED", "type": "one_time", "status": "paid", "bank_code": "004",
    "bank_name": "KB국민은행", "account_number": "55500000000099", "amount": 35000, "paid_amount": 35000,
    "allow_partial": False, "due_at": "2026-11-28T18:46:40+09:00", "created_at": "2026-11-25T18:46:40+09:00",
    "updated_at": "2026-11-25T18:46:40+09:00", "version": 2, "depositor_name": None, "customer": None, "metadata": {},
}
fixture_deposit = {
    "id": "dep_01KWFX0000000000000000DP01", "provider": "bank", "transaction_id": "T-FIXTURE-1",
    "virtual_account_id": ACCOUNT_ID, "bank_code": "004", "bank_name": "KB국민은행", "account_number": "55500000000099",
    "amount": 35000, "credited_amount": 35000, "depositor_name": "홍길동", "name_mismatch": False,
    "deposited_at": "2026-11-25T18:40:00+09:00", "received_at": "2026-11-25T18:46:40+09:00", "status": "matched",
    "exception": None, "reversed_at": None, "version": 1,
}
paid = outbox_event("evt_01KWFX0000000000000000EV01", "virtual_account.paid", MERCHANT_ID,
                    {"deposit": fixture_deposit, "virtual_account": paid_account})
matched = outbox_event("evt_01KWFX0000000000000000EV02", "deposit.matched", MERCHANT_ID,
                       {"deposit": fixture_deposit, "virtual_account": paid_account})
pool_low = outbox_event("evt_01KWFX0000000000000000EV03", "pool.low", None,
                        {"bank_code": "004", "bank_name": "KB국민은행", "free": 12, "threshold": 100})
# An account item changing and a non-event item appearing: the stream carries them, the
# publisher leaves them alone.
account_image = {"pk": {"S": "NUM#004#55500000000099"}, "sk": {"S": f"VA#{ACCOUNT_ID}"}, "kind": {"S": "account"},
                 "version": {"N": "2"}, "data": {"S": "v1.not-read-by-the-publisher"}}
write("event-publisher", "outbox-batch", {"Records": [
    stream_record(1, "INSERT", event_image(paid)),
    stream_record(2, "MODIFY", account_image),
    stream_record(3, "INSERT", event_image(matched)),
    stream_record(4, "INSERT", {**account_image, "sk": {"S": "VAREF"}}),
    stream_record(5, "INSERT", event_image(pool_low)),
]})
write("event-publisher", "unreadable-record", {"Records": [
    stream_record(1, "INSERT", event_image(paid)),
    stream_record(2, "INSERT", event_image(matched, sealed_under=(f"EVT#{paid['id']}", "EVENT"))),
    stream_record(3, "INSERT", event_image(pool_low)),
]})
