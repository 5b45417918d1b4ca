"""Writes the API Gateway (HTTP API, payload 2.0) fixtures of the HTTP functions, and the
scheduler input of the scheduled ones.

Each merchant request is signed with the fixture merchant's key below, at FIXTURE_TIME; the
functions' tests seed that merchant and stand their clock at that instant. Provider notices are
signed with PROVIDER_SECRET, which the tests give provider `bank`. Run it again after changing a
request: python3 events/generate.py
"""

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
