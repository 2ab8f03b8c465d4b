"""Security: TLS verification is always on, https off loopback, secrets never recorded, venue strings are data.

TLS runs against a real HTTPS server on 127.0.0.1 (the AutoShares simulator behind uvicorn with a
certificate from a throw-away CA made with ``cryptography``). Redaction is checked end to end at all
three venues: every secret (keys, passwords, user secret, private key, tokens, JWTs, signatures) is
looked for in every ``VenueResponse`` field, every error text, the audit database and the log file.
URL building is checked with ``httpx.MockTransport`` (httpx's own transport), which shows the exact
bytes each adapter would put on the wire for hostile ids.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from reliability_support import REPORT, wait_for
from venue_kits import KITS

from blotter.core import (
    BlotterError,
    ConfigError,
    ConnectionSpec,
    NotFoundError,
    OrderKey,
    OutcomeUnknown,
    Provenance,
    Venue,
    VenueResponse,
)
from blotter.service import BlotterService, OrderFilter
from blotter.sim.runner import SimSet
from blotter.store import paths
from blotter.store.audit import AuditStore
from blotter.store.credentials import MemoryCredentialStore
from blotter.venues.registry import create_adapter


# ---------------------------------------------------------------------------------------------- TLS
def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_pki(directory: Path, hosts: list[str]) -> dict[str, Path]:
    """A throw-away CA and a server certificate for ``hosts`` signed by it (PEM files)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Blotter test CA")).issuer_name(_name("Blotter test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server-key.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return files


class TlsServer:
    """One ASGI app over HTTPS on 127.0.0.1, in a thread (uvicorn with the given certificate)."""

    def __init__(self, app: Any, cert: Path, key: Path) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off",
                                ssl_certfile=str(cert), ssl_keyfile=str(key), timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])),
                                       name="tls-sim", daemon=True)

    def __enter__(self) -> TlsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def tls_autoshares(tmp_path: Path) -> Iterator[tuple[Any, int, dict[str, Path], dict[str, Path]]]:
    kit = KITS["autoshares"]
    sim = SimSet.from_scenario({"autoshares": kit.section([1])})["autoshares"]
    (tmp_path / "good").mkdir()
    (tmp_path / "other").mkdir()
    good = make_pki(tmp_path / "good", ["127.0.0.1"])
    other = make_pki(tmp_path / "other", ["venue.example"])
    with TlsServer(sim.app, good["cert"], good["key"]) as server:
        yield sim, server.port, good, other


async def _wait_started(port: int) -> None:
    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    await wait_for(listening, "the HTTPS server")


async def test_tls_verification_is_always_on_and_a_private_ca_can_be_trusted(
        tls_autoshares: tuple[Any, int, dict[str, Path], dict[str, Path]]) -> None:
    sim, port, good, other = tls_autoshares
    await _wait_started(port)
    kit = KITS["autoshares"]
    url = f"https://127.0.0.1:{port}/api"
    seen: list[VenueResponse] = []

    async def accounts(ca_bundle: str = "") -> Any:
        spec = ConnectionSpec("tls", Venue.AUTOSHARES, url, {"username": "mx"}, ca_bundle=ca_bundle, timeout_s=5)
        adapter = create_adapter(spec, {"app_key": kit.APP_KEY, "password": kit.PASSWORD})
        adapter.add_listener(seen.append)
        try:
            return await adapter.list_accounts()
        finally:
            await adapter.aclose()

    # an untrusted (self-made) CA: refused, said plainly, nothing reaches the venue
    with pytest.raises(OutcomeUnknown) as refused:
        await accounts()
    words = str(refused.value)
    assert "TLS certificate verification failed" in words and "set the connection's CA bundle" in words
    assert "certificate" in seen[-1].message and seen[-1].http_status is None
    assert sim.requests == []
    # a CA bundle that does not sign this server's certificate adds nothing: still refused
    with pytest.raises(OutcomeUnknown, match="TLS certificate verification failed"):
        await accounts(str(other["ca"]))
    assert sim.requests == []
    # the right CA bundle: verified, and it works
    listed = await accounts(str(good["ca"]))
    assert [a.account_id for a in listed] == [str(kit.ACCOUNT)]
    assert sim.requests_matching("POST", "/token$")
    # a certificate for another host name, from a trusted CA: refused (host names are checked too)
    with TlsServer(sim.app, other["cert"], other["key"]) as wrong_host:
        await _wait_started(wrong_host.port)
        spec = ConnectionSpec("tls", Venue.AUTOSHARES, f"https://127.0.0.1:{wrong_host.port}/api",
                              {"username": "mx"}, ca_bundle=str(other["ca"]), timeout_s=5)
        adapter = create_adapter(spec, {"app_key": "k" * 8, "password": "p" * 8})
        try:
            with pytest.raises(OutcomeUnknown, match=r"TLS certificate verification failed.*(?i:hostname|IP address)"):
                await adapter.list_accounts()
        finally:
            await adapter.aclose()
    REPORT.note("security", "TLS verification always on", True,
                f"a self-signed CA on 127.0.0.1 is refused: “{_short(words)}”; a CA bundle that did not sign the "
                "certificate adds nothing; the right `ca_bundle` works; a trusted certificate for another host "
                "name is refused")


async def test_an_unusable_ca_bundle_is_a_clear_configuration_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    for bundle, reason in ((tmp_path / "missing.pem", "No such file"), (garbage, "NO_CERTIFICATE")):
        spec = ConnectionSpec("tls", Venue.AUTOSHARES, "https://as.example/api", {"username": "u"},
                              ca_bundle=str(bundle))
        with pytest.raises(ConfigError, match=f"cannot use the CA bundle .*{reason}"):
            create_adapter(spec, {"app_key": "k", "password": "p"})
    # through the service it is one failed connection, not a crash
    spec = ConnectionSpec("tls", Venue.AUTOSHARES, "https://as.example/api", {"username": "u"},
                          ca_bundle=str(tmp_path / "missing.pem"))
    svc = BlotterService([spec], MemoryCredentialStore({("tls", "app_key"): "k", ("tls", "password"): "p"}))
    try:
        listing = await svc.open_orders()
    finally:
        await svc.aclose()
    assert [type(f.error) for f in listing.failures] == [ConfigError]


# ---------------------------------------------------------------------------------------------- https off loopback
@pytest.mark.parametrize("venue", ["autoshares", "snaptrade", "tanx"])
def test_https_is_required_off_loopback(venue: str) -> None:
    kit = KITS[venue]
    secrets = {field: value for (_, field), value in kit.secrets("c").items()}

    def make(url: str) -> Any:
        return create_adapter(kit.spec("c", url, 1.0), secrets)

    for url in ("http://api.venue.example", "http://127.0.0.1.nip.io:8080", "http://localhost.example",
                "http://0x7f000001", "http://[::ffff:8.8.8.8]", "http://10.0.0.1"):
        with pytest.raises(ConfigError, match="https is required"):
            make(url)
    for url in ("ftp://api.venue.example", "https://user:pw@api.venue.example", "https://api.venue.example/?a=1"):
        with pytest.raises(ConfigError, match="malformed base URL"):
            make(url)
    for url in ("https://api.venue.example", "http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"):
        assert make(url) is not None
    if venue == "autoshares":
        REPORT.note("security", "https off loopback", True,
                    "plain http is refused for every venue unless the host is loopback (127.0.0.0/8, ::1, "
                    "localhost); look-alikes (127.0.0.1.nip.io, localhost.example, 0x7f000001, ::ffff:8.8.8.8) are "
                    "refused; credentials, queries and other schemes in a base URL are refused")


async def test_redirects_are_not_followed(serve: Any) -> None:
    kit = KITS["autoshares"]
    sims, urls = serve({"autoshares": kit.section([1])})
    decoy_sims, decoy_urls = serve({"autoshares": kit.section([1])})
    sim, decoy = sims["autoshares"], decoy_sims["autoshares"]
    sim.add_fault({"method": "GET", "path": "/orders$", "action": "status", "status": 302, "times": 0,
                   "headers": {"Location": decoy_urls["autoshares"] + "/v1.0/users/@me/accounts"}, "body": ""})
    adapter = create_adapter(kit.spec("c", urls["autoshares"], 2.0),
                             {"app_key": kit.APP_KEY, "password": kit.PASSWORD})
    try:
        with pytest.raises(BlotterError):
            await adapter.list_open_orders(str(kit.ACCOUNT))
    finally:
        await adapter.aclose()
    assert decoy.requests == []  # the app key and token never went to where the redirect pointed


# ---------------------------------------------------------------------------------------------- redaction
def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def test_no_secret_of_any_venue_is_ever_recorded_or_shown(serve: Any, tmp_path: Path) -> None:
    from blotter.cli import log_response, setup_logging

    as_kit, st_kit, tx_kit = KITS["autoshares"], KITS["snaptrade"], KITS["tanx"]
    sims, urls = serve({"autoshares": as_kit.section([1, 2, 3]), "snaptrade": st_kit.section([1, 2, 3]),
                        "tanx": tx_kit.section([1, 2, 3])})
    as_s, st_s, tx_s = sims["autoshares"], sims["snaptrade"], sims["tanx"]
    specs = [as_kit.spec("as", urls["autoshares"], 2.0), st_kit.spec("st", urls["snaptrade"], 2.0),
             tx_kit.spec("tx", urls["tanx"], 2.0)]
    creds = {**as_kit.secrets("as"), **st_kit.secrets("st"), **tx_kit.secrets("tx")}
    static = sorted(set(creds.values()))
    # each venue echoes every secret it knows back: in messages, field names, codes and HTML
    as_echo = f"{as_kit.APP_KEY} {as_kit.PASSWORD}"
    st_echo = f"{st_kit.CONSUMER_KEY} {st_kit.USER_SECRET} {quote(st_kit.USER_SECRET)}"
    tx_echo = f"{tx_kit.KEY} {tx_kit.KEY[2:]}"
    as_s.add_fault({"method": "DELETE", "path": "/orders/1$", "action": "status", "status": 400,
                    "body": {"Message": f"bad key {as_echo}", "ModelState": {as_kit.PASSWORD: [as_echo]}}})
    st_s.add_fault({"method": "POST", "path": "/trading/cancel$", "action": "status", "status": 400,
                    "body": {"default_detail": f"refused for {st_echo}", "default_code": st_echo}})
    tx_s.add_fault({"method": "POST", "path": "/orders/cancel/$", "action": "status", "status": 400,
                    "body": {"status": "error", "message": f"no: {tx_echo}", "payload": {"private_key": tx_echo}}})
    tx_s.add_fault({"method": "GET", "path": r"/sapi/v1/orders/?$", "action": "status", "status": 503,
                    "body": f"<html>{tx_echo}</html>"})

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging()
    audit = AuditStore()
    svc = BlotterService(specs, MemoryCredentialStore(creds), reconcile_timeout_s=0.5, audit=audit)
    svc.add_response_listener(log_response)
    responses: list[VenueResponse] = []
    svc.add_response_listener(responses.append)
    shown: list[str] = []
    try:
        listing = await svc.open_orders()
        shown += [str(f.error) for f in [*listing.failures, *listing.account_failures]]
        shown += [u.reason for u in listing.unreadable]
        # dynamic secrets: tokens issued at log-in, echoed back by the venues too
        as_s.add_fault({"method": "GET", "path": "/orders/2$", "action": "status", "status": 422,
                        "body": {"Message": f"token {' '.join(as_s.issued_tokens())}"}, "times": 0})
        tx_s.add_fault({"method": "GET", "path": r"/orders/\d+/$", "action": "status", "status": 400,
                        "body": {"status": "error", "message": f"jwt {' '.join(tx_s.issued_tokens())}",
                                 "payload": {"refresh": tx_s.issued_tokens()}}})
        results = await svc.cancel([as_kit.key("as", n) for n in (1, 2)] + [st_kit.key("st", 1), tx_kit.key("tx", 1)],
                                   Provenance.CLI)
        shown += [t for r in results for t in (r.message, r.detail)]
        as_s.expire_tokens()
        tx_s.expire_access_tokens()  # a refresh: new JWTs
        results, listing2 = await svc.cancel_all(OrderFilter())
        shown += [t for r in results for t in (r.message, r.detail)]
        shown += [str(f.error) for f in [*listing2.failures, *listing2.account_failures]]
        for name in ("as", "st", "tx"):
            try:
                shown.append(json.dumps(await svc.adapter(name).account_details(
                    {"as": str(as_kit.ACCOUNT), "st": st_kit.ACCOUNT, "tx": tx_kit.ADDRESS}[name])))
            except BlotterError as exc:
                shown.append(str(exc))
    finally:
        await svc.aclose()
        audit.close()
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level = saved

    tokens = as_s.issued_tokens() + tx_s.issued_tokens()
    signatures = [r.headers["signature"] for r in st_s.requests if "signature" in r.headers]
    wallet_signatures = [json.loads(r.body)["user_signature"] for r in tx_s.requests_matching("POST", "/login/$")]
    secrets = [*static, tx_kit.KEY[2:], quote(st_kit.USER_SECRET), *tokens, *signatures,
               *wallet_signatures]
    assert tokens and signatures and wallet_signatures and len(secrets) >= 12
    texts = [t for r in responses for t in (r.request, r.raw_body, r.message)] + shown
    assert len(responses) > 20
    leaks = [(s, t) for s in secrets for t in texts if s in t]
    assert not leaks, leaks[:3]
    assert any("***" in r.request for r in responses)  # headers, query and bodies were masked, not dropped
    files = [p for p in paths.data_dir().rglob("*") if p.is_file()]
    assert any(p.name == "blotter.log" for p in files) and any(p.name.startswith("audit.sqlite3") for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret is in {path.name}"
    REPORT.note("security", "redaction at every venue", True,
                f"{len(secrets)} secret values (AutoShares app key, password and {len(as_s.issued_tokens())} tokens; "
                "SnapTrade consumer key, user secret raw and URL-encoded, "
                f"{len(signatures)} request signatures; tanX private key with and without 0x, "
                f"{len(wallet_signatures)} wallet signature(s), {len(tx_s.issued_tokens())} JWTs), many echoed back "
                f"by the venues in messages, field names and HTML: none in {len(responses)} recorded answers "
                "(request, raw body, message), the error texts, the audit database or the log file")


# ---------------------------------------------------------------------------------------------- venue strings are data
HOSTILE = ["../x", "..", ".", "", "  ", "a/b", "a?b=c", "a#b", "%2e%2e", "%2F", "a b", "1;DROP", "\u202e1",
           "١٢", "²", "1\n2", "7101/../7102", "1?pageSize=1000"]


def _recording_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith("/token"):
            return httpx.Response(200, json={"State": "Succeeded", "Token": "tok-0123456789"})
        if "/nonce/" in path:
            return httpx.Response(200, json={"status": "success", "message": "m", "payload": "sign me"})
        if path == "/authorizations":
            return httpx.Response(200, json=[])
        if "/login/" in path:
            return httpx.Response(200, json={"status": "success", "message": "m", "payload": {},
                                             "token": {"access": "acc-0123456789", "refresh": "ref-0123456789"}})
        return httpx.Response(404, json={"Message": "nope", "status": "error", "message": "nope", "payload": ""})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("venue", ["autoshares", "snaptrade", "tanx"])
async def test_hostile_ids_never_leave_their_path_segment(venue: str) -> None:
    kit = KITS[venue]
    seen: list[httpx.Request] = []
    secrets = {field: value for (_, field), value in kit.secrets("c").items()}
    base = {"autoshares": "https://as.example/api", "snaptrade": "https://st.example", "tanx": "https://tx.example"}
    adapter = create_adapter(kit.spec("c", base[venue], 1.0), secrets, transport=_recording_transport(seen))
    refused = sent = 0
    try:
        await adapter.login()
        for hostile in HOSTILE:
            calls = [lambda h=hostile: adapter.list_open_orders(h), lambda h=hostile: adapter.account_details(h),
                     lambda h=hostile: adapter.get_order(kit.account(), h),
                     lambda h=hostile: adapter.cancel(OrderKey("c", kit.account(), h)),
                     lambda h=hostile: adapter.get_order(h, "1"),
                     lambda h=hostile: adapter.cancel(OrderKey("c", h, "1"))]
            for call in calls:
                before = len(seen)
                try:
                    await call()
                except NotFoundError:
                    pass  # refused before sending, or the venue's 404
                except BlotterError:
                    pass
                for request in seen[before:]:
                    sent += 1
                    raw = request.url.raw_path.decode("ascii")
                    path, _, query = raw.partition("?")
                    # the id is one segment: no dot segments, no stray "/", "?" or "#" of its own
                    assert "/../" not in path + "/" and "/./" not in path + "/" and not path.endswith("/..")
                    assert hostile.strip() == "" or hostile not in path or hostile.isalnum()
                    assert "#" not in raw
                    assert "pageSize=1000" not in query and "b=c" not in query
                    if venue == "snaptrade":  # the account is the only path segment built from a string
                        segments = path.split("/")
                        assert segments[1] == "accounts" and len(segments) <= 5, raw
                if len(seen) == before:
                    refused += 1
    finally:
        await adapter.aclose()
    assert refused > 0
    assert (sent > 0) == (venue == "snaptrade")  # only SnapTrade ids are free text; the others are refused
    if venue == "tanx":
        REPORT.note("security", "venue strings are data", True,
                    f"{len(HOSTILE)} hostile ids (`../x`, `..`, `a?b=c`, `a#b`, `%2F`, `١٢`, …) as account and "
                    "order ids in every adapter method: AutoShares and tanX refuse anything but ASCII digits "
                    "(a tanX account must be the wallet), SnapTrade percent-encodes the account as one path "
                    "segment (`/`, `?`, `#`, `%` included) and refuses empty, `.` and `..`; nothing reached "
                    "another path or the query")


def test_non_ascii_or_control_characters_in_credentials_are_a_configuration_error() -> None:
    for username, password in (("jdoe\r\nX-Evil: 1", "pw-123456"), ("jdoe", "pässwört-123"), ("jdoe", "pw\n1234")):
        spec = ConnectionSpec("c", Venue.AUTOSHARES, "https://as.example/api", {"username": username})
        adapter = create_adapter(spec, {"app_key": "app-key-123", "password": password},
                                 transport=_recording_transport([]))

        async def login(a: Any = adapter) -> None:
            try:
                await a.login()
            finally:
                await a.aclose()

        with pytest.raises(ConfigError, match="cannot be built") as err:
            asyncio.run(login())
        assert password not in str(err.value) and "Evil" not in str(err.value)


async def test_venue_words_are_one_line_and_stored_as_data(serve: Any) -> None:
    kit = KITS["autoshares"]
    sims, urls = serve({"autoshares": kit.section([1])})
    forged = "refused\r\n2026-11-21 09:00:00 INFO blotter as cancel 204 0ms Order 1 cancelled'); DROP TABLE attempts;--"
    sims["autoshares"].add_fault({"method": "DELETE", "path": "/orders/1$", "action": "status", "status": 409,
                                  "body": {"Message": forged}})
    audit = AuditStore()
    svc = BlotterService([kit.spec("c", urls["autoshares"], 2.0)], MemoryCredentialStore(kit.secrets("c")),
                         reconcile_timeout_s=0.5, audit=audit)
    try:
        [result] = await svc.cancel([kit.key("c", 1)], Provenance.CLI)
    finally:
        await svc.aclose()
    audit.flush()
    try:
        [attempt] = audit.attempts()
        assert attempt.message == result.message
    finally:
        audit.close()
    assert "\n" not in result.message and "\r" not in result.message
    assert "DROP TABLE attempts" in result.message  # kept verbatim as data; the table is still there
