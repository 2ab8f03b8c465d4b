from __future__ import annotations

import json

from blotter.core.redaction import MASK, Redactor

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_known_values_masked_anywhere() -> None:
    r = Redactor(["s3cret-app-key", "hunter2hunter2"])
    text = r.text("bad key s3cret-app-key for user with password hunter2hunter2!")
    assert "s3cret" not in text and "hunter2" not in text and text.count(MASK) == 2


def test_shapes_masked_without_knowing_them() -> None:
    r = Redactor()
    assert JWT not in r.text(f"Authorization: JWT {JWT}")
    assert KEY not in r.text(f"key={KEY}") and KEY[2:] not in r.text(f"key={KEY[2:]}")
    assert "abc123token" not in r.text("Bearer abc123token")


def test_urls_headers_and_json_are_masked_structurally() -> None:
    r = Redactor()
    url = r.url("http://127.0.0.1:9/accounts?userId=u1&userSecret=plain-secret&clientId=C&timestamp=1")
    assert "plain-secret" not in url and "userId=u1" in url and "clientId=C" in url
    headers = r.headers({"Et-App-Key": "k", "Password": "p", "Username": "bob", "Signature": "sig"})
    assert headers == {"Et-App-Key": MASK, "Password": MASK, "Username": "bob", "Signature": MASK}
    body = r.body(json.dumps({"token": {"access": "a-1", "refresh": "r-1"}, "payload": {"uid": 7}}))
    assert "a-1" not in body and "r-1" not in body and '"uid":7' in body


def test_body_that_is_not_json_and_huge_bodies() -> None:
    r = Redactor(["topsecretvalue"])
    assert "topsecretvalue" not in r.body(b"<html>topsecretvalue</html>")
    assert r.body("x" * 100, limit=10).startswith("x" * 10) and "more characters" in r.body("x" * 100, limit=10)


def test_short_values_are_not_used_as_patterns() -> None:
    r = Redactor(["abc"])
    assert r.text("abcdef") == "abcdef"


def test_json_bodies_are_masked_by_value_in_keys_values_and_escaped_forms() -> None:
    quoted, backslashed = 'pa"ss-word-1', "C:\\keys\\wallet-9"
    r = Redactor(["s3cret-app-key", quoted, backslashed, "ünïcode-secret"])
    page = {
        "Items": [{"Id": i, "Comment": f"echo s3cret-app-key #{i}", "Note": f"Bearer tok{i}en", "Jwt": JWT}
                  for i in range(3)],
        "ModelState": {"s3cret-app-key": ["invalid"], "Password": ["required"]},
        "echo": [quoted, backslashed, "ünïcode-secret", f"key {KEY}"],
        "nested": {"refresh_token": "plain-r", "deeper": [{"user_secret": "plain-u", "kept": "visible"}]},
    }
    out = r.body(json.dumps(page, ensure_ascii=False))
    parsed = json.loads(out)  # still JSON
    for secret in ("s3cret-app-key", quoted, backslashed, "ünïcode-secret", JWT, KEY, "tok0en", "plain-r",
                   "plain-u"):
        assert secret not in out and json.dumps(secret)[1:-1] not in out, secret
    assert parsed["nested"]["deeper"][0]["kept"] == "visible" and parsed["Items"][2]["Id"] == 2
    assert parsed["echo"][:3] == [MASK, MASK, MASK]
    # the same, ASCII-escaped as a venue may send it
    assert "ünïcode-secret" not in r.body(json.dumps(page)) and "\\u00fcn\\u00efcode" not in r.body(json.dumps(page))
