"""Ethereum addresses without ``eth_account``: a wallet key's address, and the EIP-55 checksum form.

``eth_account`` costs about a second to import (eth_keyfile pulls in py_ecc and pydantic), and start-up
needs only addresses: the tanX adapter's account id and the simulator's wallets. Both are public-key
arithmetic on secp256k1 plus Keccak-256, done here in plain Python (a millisecond or two per key).
Signing and signature recovery stay with ``eth_account``, imported when a wallet login first needs them.
The tests compare every function here with ``eth_account`` / ``eth_utils``.
"""

from __future__ import annotations

import binascii

# ---------------------------------------------------------------------- Keccak-256 (the pre-SHA-3 padding)
_MASK = (1 << 64) - 1


def _round_constants() -> tuple[int, ...]:
    out = []
    r = 1
    for _ in range(24):
        rc = 0
        for j in range(7):
            if r & 1:
                rc |= 1 << ((1 << j) - 1)
            r <<= 1  # the LFSR x^8 + x^6 + x^5 + x^4 + 1 of FIPS 202, one step
            if r & 0x100:
                r ^= 0x171
        out.append(rc)
    return tuple(out)


def _rotations() -> tuple[int, ...]:
    rot = [0] * 25
    x, y = 1, 0
    for t in range(24):
        rot[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return tuple(rot)


_RC = _round_constants()
_ROT = _rotations()
# rho + pi: lane x + 5y moves to y + 5((2x + 3y) mod 5)
_PI = tuple(y + 5 * ((2 * x + 3 * y) % 5) for y in range(5) for x in range(5))  # indexed by x + 5y
_RATE = 136  # bytes: 1600 - 2 * 256 bits


def _permute(a: list[int]) -> None:
    rot, pi = _ROT, _PI
    b = [0] * 25
    for rc in _RC:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _MASK) for x in range(5)]
        for i in range(25):
            lane = a[i] ^ d[i % 5]
            n = rot[i]
            b[pi[i]] = ((lane << n) | (lane >> (64 - n))) & _MASK if n else lane
        for y in range(0, 25, 5):
            b0, b1, b2, b3, b4 = b[y:y + 5]
            a[y] = b0 ^ (~b1 & b2)
            a[y + 1] = b1 ^ (~b2 & b3)
            a[y + 2] = b2 ^ (~b3 & b4)
            a[y + 3] = b3 ^ (~b4 & b0)
            a[y + 4] = b4 ^ (~b0 & b1)
        a[0] ^= rc


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (not ``hashlib.sha3_256``: the padding differs)."""
    padded = bytearray(data)
    padded.append(0x01)
    padded.extend(b"\x00" * (-len(padded) % _RATE))
    padded[-1] |= 0x80
    state = [0] * 25
    for offset in range(0, len(padded), _RATE):
        block = padded[offset:offset + _RATE]
        for i in range(_RATE // 8):
            state[i] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        _permute(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state[:4])


# ---------------------------------------------------------------------- secp256k1 public keys
_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
      0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8, 1)
_INFINITY = (0, 1, 0)

_Jacobian = tuple[int, int, int]


def _double(pt: _Jacobian) -> _Jacobian:
    x, y, z = pt
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % _P
    s = 4 * x * yy % _P
    m = 3 * x * x % _P  # a = 0
    x3 = (m * m - 2 * s) % _P
    return x3, (m * (s - x3) - 8 * yy * yy) % _P, 2 * y * z % _P


def _add(p1: _Jacobian, p2: _Jacobian) -> _Jacobian:
    if p1[2] == 0:
        return p2
    if p2[2] == 0:
        return p1
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    z1z1, z2z2 = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2z2 % _P, x2 * z1z1 % _P
    s1, s2 = y1 * z2 * z2z2 % _P, y2 * z1 * z1z1 % _P
    if u1 == u2:
        return _double(p1) if s1 == s2 else _INFINITY
    h, r = (u2 - u1) % _P, (s2 - s1) % _P
    hh = h * h % _P
    hhh = h * hh % _P
    v = u1 * hh % _P
    x3 = (r * r - hhh - 2 * v) % _P
    return x3, (r * (v - x3) - s1 * hhh) % _P, h * z1 * z2 % _P


def _public_key(secret: int) -> bytes:
    """The 64-byte uncompressed public key (x ‖ y) of a secret in [1, n-1]."""
    acc = _INFINITY
    for bit in bin(secret)[2:]:
        acc = _double(acc)
        if bit == "1":
            acc = _add(acc, _G)
    x, y, z = acc
    zinv = pow(z, -1, _P)
    zinv2 = zinv * zinv % _P
    return (x * zinv2 % _P).to_bytes(32, "big") + (y * zinv2 * zinv % _P).to_bytes(32, "big")


def private_key_bytes(private_key: str) -> bytes:
    """A hex wallet key (``0x`` optional) as 32 bytes, read as ``eth_account`` reads it.

    ``ValueError`` if it is not hex, not 32 bytes, or not in [1, n-1]. The message never holds the key.
    """
    text = private_key[2:] if private_key.startswith(("0x", "0X")) else private_key
    if len(text) % 2:
        text = "0" + text  # as HexBytes does
    try:
        raw = binascii.unhexlify(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("a private key is hex digits") from None
    if len(raw) != 32:
        raise ValueError(f"a private key is 32 bytes, not {len(raw)}")
    if not 0 < int.from_bytes(raw, "big") < _N:
        raise ValueError("a private key is a number from 1 to the curve order less one")
    return raw


def address_of_key(private_key: str) -> str:
    """The checksummed address of a hex wallet key, as ``eth_account.Account.from_key(k).address``."""
    public = _public_key(int.from_bytes(private_key_bytes(private_key), "big"))
    return to_checksum_address("0x" + keccak256(public)[-20:].hex())


def to_checksum_address(address: str) -> str:
    """EIP-55 form of a ``0x`` + 40 hex digit address. ``ValueError`` for anything else."""
    text = address[2:] if address.startswith(("0x", "0X")) else ""
    if len(text) != 40 or not all(c in "0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"{address!r} is not a 0x-prefixed address of 40 hex digits")
    lower = text.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, digest[:40], strict=True))
