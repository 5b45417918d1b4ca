"""Verifies recorded webhook requests with the independent Standard Webhooks implementation
(PyPI `standardwebhooks`), not with vaccount's own code.

Usage: verify_webhooks.py LOG_FILE SECRET [SECRET...]
Prints {"verified": N, "failed": [...], "events": [{"id", "type", "path", "status", "at", "attempt"}]}
and exits 1 if any request does not verify under at least one of the secrets.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

log_path, secrets = sys.argv[1], sys.argv[2:]
verifiers = [Webhook(s) for s in secrets]
verified, failed, events = 0, [], []
with open(log_path, encoding="utf-8") as log:
    for line in log:
        record = json.loads(line)
        payload = None
        for verifier in verifiers:
            try:
                payload = verifier.verify(record["body"], record["headers"])
                break
            except WebhookVerificationError:
                continue
        if payload is None or record["content_type"] != "application/json" or payload.get("id") != record["headers"].get("webhook-id"):
            failed.append(record["headers"].get("webhook-id"))
            continue
        verified += 1
        events.append({"id": payload["id"], "type": payload["type"], "path": record["path"], "status": record["status"], "at": record["at"], "data": payload["data"]})
print(json.dumps({"verified": verified, "failed": failed, "events": events}, ensure_ascii=False))
sys.exit(1 if failed else 0)
