"""core.eth (addresses without eth_account) agrees with eth_account, eth_utils and pycryptodome."""

from __future__ import annotations

import pytest
from Crypto.Hash import keccak as reference_keccak
from eth_account import Account
from eth_utils.address import to_checksum_address as reference_checksum
from hypothesis import given, settings
from hypothesis import strategies as st

from blotter.core.eth import address_of_key, keccak256, private_key_bytes, to_checksum_address

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@given(st.binary(max_size=600))
@settings(max_examples=150, deadline=None)
def test_keccak256_matches_pycryptodome(data: bytes) -> None:
    assert keccak256(data) == reference_keccak.new(digest_bits=256, data=data).digest()


@pytest.mark.parametrize("size", [0, 135, 136, 137, 271, 272, 273])
def test_keccak256_block_edges(size: int) -> None:
    data = bytes(range(256)) * 2
    assert keccak256(data[:size]) == reference_keccak.new(digest_bits=256, data=data[:size]).digest()


def test_keccak256_known_value() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@given(st.integers(min_value=1, max_value=N - 1))
@settings(max_examples=60, deadline=None)
def test_address_of_key_matches_eth_account(secret: int) -> None:
    key = "0x" + format(secret, "064x")
    assert address_of_key(key) == Account.from_key(key).address
    assert address_of_key(key[2:]) == Account.from_key(key).address


@pytest.mark.parametrize("key", [
    "0x" + "00" * 31 + "01",  # the smallest key
    "0x" + format(N - 1, "064x"),  # the largest key
    "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
    "0X" + "1" * 63,  # odd length: left-padded, as HexBytes does
    "0x" + "AB" * 32,
])
def test_address_of_key_edge_keys(key: str) -> None:
    assert address_of_key(key) == Account.from_key(key).address


@pytest.mark.parametrize("key", [
    "", "0x", "0x" + "00" * 32, "0x" + format(N, "064x"), "0x" + "ff" * 32, "0x" + "11" * 31,
    "0x" + "11" * 33, "0x" + "zz" * 32, "0x" + "é" * 64, "0x1234",
])
def test_invalid_keys_are_refused_like_eth_account_without_echoing_them(key: str) -> None:
    with pytest.raises(ValueError) as caught:
        address_of_key(key)
    assert key[2:] not in str(caught.value) or not key[2:]
    with pytest.raises(ValueError):
        Account.from_key(key)
    with pytest.raises(ValueError):
        private_key_bytes(key)


@given(st.binary(min_size=20, max_size=20), st.sampled_from(["lower", "upper", "mixed"]))
@settings(max_examples=100, deadline=None)
def test_checksum_matches_eth_utils(raw: bytes, case: str) -> None:
    text = raw.hex()
    text = text.upper() if case == "upper" else text if case == "lower" else reference_checksum("0x" + text)[2:]
    assert to_checksum_address("0x" + text) == reference_checksum("0x" + text)


@pytest.mark.parametrize("address", ["", "0x", "0x12", "12" * 20, "0x" + "g" * 40, "0x" + "1" * 41, "0x" + "1" * 39])
def test_checksum_refuses_non_addresses(address: str) -> None:
    with pytest.raises(ValueError):
        to_checksum_address(address)
