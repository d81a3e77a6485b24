#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/<name>): a few realistic
inputs each, in the layout the target's doc comment gives, so the fuzzer starts from what
providers really send rather than from nothing.

    python3 fuzz/make_corpus.py

Sources: the sandbox's recorded events (gateways/sandbox/tests/fixtures), Stripe's recorded
events with their placeholders filled (tests/fixtures/stripe/events, see its README), the
objects the YooKassa fake answers with (tests/support/yookassa.rs), the ResultURL form the
Robokassa fake posts (tests/support/robokassa.rs) and OpStateExt's documented answer. The
secrets are the fuzz targets' own (fuzz/src/gateways.rs). Only the standard library is used;
every input is fixed, so running it again changes nothing.
"""

import hashlib
import hmac
import json
import pathlib
import struct
import urllib.parse

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"

NOW = 1_800_000_000
SANDBOX_SECRET = "whsec_fuzz_sandbox"
STRIPE_SECRETS = ["whsec_fuzz_current", "whsec_fuzz_previous"]
PASSWORD2 = "fuzz-password-2"

ORDER = "0190a6f2-7c1e-7b3a-9d2e-5f4a3b2c1d0e"
TENANT = "0190a6f2-0000-7000-8000-000000000001"


def write(target, name, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (directory / name).write_bytes(data)


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stripe_header(secrets, t, body):
    """`t=…,v1=…` as lyceum_gateway_core::signature::sign writes it."""
    tags = [
        hmac.new(s.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        for s in secrets
    ]
    return f"t={t}" + "".join(f",v1={tag}" for tag in tags)


def signature_header():
    body = (ROOT / "gateways/sandbox/tests/fixtures/payment_succeeded.json").read_bytes()
    body = compact(json.loads(body)).encode()
    clock = struct.pack("<qqq", NOW, 300, NOW)
    for name, secrets, t in [
        ("valid", ["whsec_a"], NOW),
        ("rotation", ["whsec_old", "whsec_new"], NOW - 10),
        ("stale", ["whsec_a"], NOW - 301),
    ]:
        header = stripe_header(secrets, t, body)
        seed = clock + header.encode() + b"\n" + ",".join(secrets).encode() + b"\n" + body
        write("signature_header", name, seed)
    write(
        "signature_header",
        "v0_and_junk",
        clock + f"t={NOW},v0=00ff,v1=abc,v1=".encode() + b"\nwhsec_a\n" + body,
    )
    # The far ends of the clock, where overflows live: checked at i64::MIN, signed at i64::MAX.
    # It crashed the first run (the difference to now overflowed); the regression test is
    # `signature::tests` in gateways/core.
    edges = struct.pack("<qqq", -(2**63), 2**63 - 1, 2**63 - 1)
    write("signature_header", "clock_edges", edges + b"t=-9223372036854775808,v1=00\ns\nx")


def stripe_event(name, account=False):
    text = (ROOT / "tests/fixtures/stripe/events" / f"{name}.json").read_text()
    for placeholder, value in {
        '"{{AMOUNT}}"': "4900",
        "{{ORDER_ID}}": ORDER,
        "{{TENANT_ID}}": TENANT,
        "{{SESSION_ID}}": "cs_test_fuzz0001",
        "{{PAYMENT_INTENT}}": "pi_fuzz0001",
        "{{ACCOUNT}}": "acct_fuzz0001",
        "{{REFUND_ID}}": "0190a6f2-0000-7000-8000-0000000000fe",
        "{{CURRENCY}}": "usd",
    }.items():
        text = text.replace(placeholder, value)
    return compact(json.loads(text))


# A PaymentIntent as the Stripe fake answers `GET /v1/payment_intents/{id}`.
PAYMENT_INTENT = {
    "id": "pi_fuzz0001", "object": "payment_intent", "amount": 4900, "amount_capturable": 0,
    "amount_details": {"tip": {}}, "amount_received": 4900, "application": None,
    "application_fee_amount": 490, "automatic_payment_methods": None, "canceled_at": None,
    "cancellation_reason": None, "capture_method": "automatic_async",
    "client_secret": "pi_fuzz0001_secret_x", "confirmation_method": "automatic",
    "created": NOW - 600, "currency": "usd", "customer": None, "description": "Order 42",
    "last_payment_error": None, "latest_charge": "ch_fuzz0001", "livemode": False,
    "metadata": {"order_id": ORDER, "tenant_id": TENANT}, "next_action": None,
    "on_behalf_of": None, "payment_method": "pm_fuzz0001",
    "payment_method_configuration_details": None, "payment_method_options": {},
    "payment_method_types": ["card"], "processing": None, "receipt_email": None,
    "review": None, "setup_future_usage": None, "shipping": None, "source": None,
    "statement_descriptor": None, "statement_descriptor_suffix": None,
    "status": "succeeded", "transfer_data": {"destination": "acct_fuzz0001"},
    "transfer_group": "group_pi_fuzz0001",
}

REFUND_LIST = {
    "object": "list", "has_more": False, "url": "/v1/refunds",
    "data": [{
        "id": "re_fuzz0001", "object": "refund", "amount": 4900,
        "balance_transaction": "txn_fuzz0001", "charge": "ch_fuzz0001", "created": NOW - 60,
        "currency": "usd", "metadata": {"order_id": ORDER, "tenant_id": TENANT},
        "payment_intent": "pi_fuzz0001", "reason": None, "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
    }],
}


def stripe():
    for name in [
        "checkout.session.completed",
        "checkout.session.expired",
        "refund.updated",
        "account.updated",
        "checkout.session.completed.2020-08-27",
    ]:
        write("stripe_webhook", name, stripe_event(name))
    # What the gateway asks Stripe about: a charge's refunds, then its PaymentIntent; the
    # PaymentIntent behind a dispute.
    write(
        "stripe_webhook",
        "charge.refunded",
        "\n".join([stripe_event("charge.refunded"), compact(REFUND_LIST), compact(PAYMENT_INTENT)]),
    )
    write(
        "stripe_webhook",
        "charge.dispute.closed.lost",
        "\n".join([stripe_event("charge.dispute.closed.lost"), compact(PAYMENT_INTENT)]),
    )
    # Never acceptable: signed by a stranger, or by us too long ago or too far ahead.
    body = stripe_event("checkout.session.completed").encode()
    for name, secrets, t in [
        ("stranger", ["whsec_someone_else"], NOW),
        ("stale", STRIPE_SECRETS, NOW - 301),
        ("future", STRIPE_SECRETS[:1], NOW + 301),
    ]:
        write("stripe_signature", name, stripe_header(secrets, t, body).encode() + b"\n" + body)
    write("stripe_signature", "v0_only", f"t={NOW},v0={'0' * 64}\n".encode() + body)


def sandbox():
    for fixture in sorted((ROOT / "gateways/sandbox/tests/fixtures").glob("*.json")):
        write("sandbox_webhook", fixture.stem, compact(json.loads(fixture.read_text())))


# A payment as YooKassa answers `GET /payments/{id}` (tests/support/yookassa.rs).
YOO_PAYMENT = {
    "id": "2f7a3c1e-000f-5000-a000-1b2c3d4e5f60", "status": "succeeded", "paid": True,
    "amount": {"value": "1490.00", "currency": "RUB"},
    "recipient": {"account_id": "100500", "gateway_id": "1"},
    "created_at": "2027-01-15T07:59:00.000Z", "captured_at": "2027-01-15T07:59:30.000Z",
    "test": True, "refunded_amount": {"value": "0.00", "currency": "RUB"}, "refundable": True,
    "metadata": {"order_id": ORDER, "tenant_id": TENANT, "lyceum_total": "1490.00"},
}
YOO_REFUND = {
    "id": "2f7a3c1e-0015-5000-9000-1b2c3d4e5f61", "payment_id": YOO_PAYMENT["id"],
    "status": "succeeded", "amount": {"value": "490.00", "currency": "RUB"},
    "created_at": "2027-01-15T08:00:00.000Z", "metadata": {"lyceum_refund": "r1"},
}


def yookassa():
    def notification(event, obj):
        return compact({"type": "notification", "event": event, "object": obj})

    waiting = dict(YOO_PAYMENT, status="waiting_for_capture", captured_at=None)
    canceled = dict(YOO_PAYMENT, status="canceled", paid=False, captured_at=None,
                    cancellation_details={"party": "yoo_money", "reason": "expired_on_confirmation"})
    for name, lines in {
        "payment.succeeded": [notification("payment.succeeded", YOO_PAYMENT), compact(YOO_PAYMENT)],
        "payment.waiting_for_capture": [
            notification("payment.waiting_for_capture", waiting), compact(waiting),
            compact(YOO_PAYMENT),
        ],
        "payment.canceled": [notification("payment.canceled", canceled), compact(canceled)],
        "refund.succeeded": [
            notification("refund.succeeded", YOO_REFUND), compact(YOO_REFUND), compact(YOO_PAYMENT),
        ],
        "not_found": [
            notification("payment.succeeded", YOO_PAYMENT),
            compact({"type": "error", "code": "not_found", "description": "no such payment"}),
        ],
        "payout": [notification("payout.succeeded", {"id": "po-1"})],
    }.items():
        write("yookassa_notification", name, "\n".join(lines))


def robokassa():
    def form(out_sum, inv_id, shp, hash_name="md5", signature=None):
        shp_sorted = sorted(shp)
        base = f"{out_sum}:{inv_id}:{PASSWORD2}" + "".join(f":{k}={v}" for k, v in shp_sorted)
        signature = signature or hashlib.new(hash_name, base.encode()).hexdigest()
        pairs = [("OutSum", out_sum), ("InvId", inv_id), ("Fee", "0.000000"),
                 ("EMail", "student@example.com"), ("SignatureValue", signature),
                 ("PaymentMethod", "BankCard"), ("IncCurrLabel", "BankCardPSR")] + shp
        return urllib.parse.urlencode(pairs)

    shp = [("Shp_order", ORDER), ("Shp_tenant", TENANT)]
    write("robokassa_result", "paid", form("1490.000000", "4217", shp))
    write("robokassa_result", "paid_sha512", form("2000.50", "4218", shp, "sha512"))
    upper = hashlib.md5(f"10:7:{PASSWORD2}:Shp_order={ORDER}:Shp_tenant={TENANT}".encode())
    write("robokassa_result", "upper_case", form("10", "7", shp, signature=upper.hexdigest().upper()))
    write("robokassa_result", "extra_shp", form("100.000000", "450009", shp + [("Shp_login", "Vasya")]))
    write("robokassa_result", "forged", form("1.00", "4217", shp, signature="0" * 32))

    def op_state(result, state=None, out_sum="1490.000000"):
        xml = ('<?xml version="1.0" encoding="utf-8"?>\n'
               '<OperationStateResponse xmlns="http://merchant.roboxchange.com/WebService/">\n'
               f"  <Result><Code>{result}</Code></Result>\n")
        if state is not None:
            xml += (f"  <State><Code>{state}</Code><RequestDate>2027-01-15T11:00:00+03:00</RequestDate>"
                    "<StateDate>2027-01-15T11:01:00+03:00</StateDate></State>\n"
                    "  <Info><IncCurrLabel>BankCardPSR</IncCurrLabel><IncSum>1490.00</IncSum>"
                    f"<OutCurrLabel>BankCardPSR</OutCurrLabel><OutSum>{out_sum}</OutSum>"
                    "<OpKey>ABC-123</OpKey></Info>\n")
        return xml + "</OperationStateResponse>\n"

    write("robokassa_op_state", "paid", op_state(0, 100))
    write("robokassa_op_state", "cancelled", op_state(0, 10, ""))
    write("robokassa_op_state", "pending", op_state(0, 50))
    write("robokassa_op_state", "unknown_invoice", op_state(3))
    write("robokassa_op_state", "bad_signature", op_state(1))


signature_header()
stripe()
sandbox()
yookassa()
robokassa()
