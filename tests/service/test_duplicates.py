"""Two connections to one venue login are found (issue 14 rule 6), whatever the spelling."""

from __future__ import annotations

from blotter.core import ConnectionSpec, Venue
from blotter.service.duplicates import duplicate_warning, same_login, shared_accounts


def spec(name: str, venue: Venue, url: str, **options: str) -> ConnectionSpec:
    return ConnectionSpec(name, venue, url, options)


def test_same_login_at_each_venue() -> None:
    a = spec("as", Venue.AUTOSHARES, "https://api.autoshares.dev/api", username="JDoe", cancel_mode="quick")
    b = spec("as2", Venue.AUTOSHARES, "https://API.autoshares.dev:443/api", username="jdoe", cancel_mode="sync")
    c = spec("as3", Venue.AUTOSHARES, "https://api.autoshares.dev/api", username="other")
    d = spec("as4", Venue.AUTOSHARES, "https://uat.autoshares.dev/api", username="jdoe")
    assert same_login(b, [a, b, c, d]) == ["as"]
    s1 = spec("st", Venue.SNAPTRADE, "https://api.snaptrade.com", client_id="C", user_id="u1")
    s2 = spec("st2", Venue.SNAPTRADE, "https://api.snaptrade.com", client_id="C", user_id="u1")
    s3 = spec("st3", Venue.SNAPTRADE, "https://api.snaptrade.com", client_id="C", user_id="u2")
    assert same_login(s2, [s1, s3]) == ["st"]
    t1 = spec("tx", Venue.TANX, "https://api.tanx.fi", eth_address="0xAbC0000000000000000000000000000000000001")
    t2 = spec("tx2", Venue.TANX, "https://api.tanx.fi", eth_address="0xabc0000000000000000000000000000000000001")
    assert same_login(t2, [t1]) == ["tx"]
    assert "'as' already connects to the same AutoShares login" in duplicate_warning(b, [a])
    assert duplicate_warning(c, [a, b]) == ""


def test_shared_accounts_after_a_test() -> None:
    a = spec("alice", Venue.AUTOSHARES, "https://api.autoshares.dev/api", username="alice")
    b = spec("bob", Venue.AUTOSHARES, "https://api.autoshares.dev/api", username="bob")
    c = spec("elsewhere", Venue.AUTOSHARES, "https://uat.autoshares.dev/api", username="bob")
    found = shared_accounts(a, ["6303", "6304"], {"bob": (b, ["6303", "7000"]), "elsewhere": (c, ["6303"])})
    assert found == {"bob": ["6303"]}  # the joint account; another host is another venue
