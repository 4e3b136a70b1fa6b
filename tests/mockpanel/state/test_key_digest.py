"""Keys are hashed with CPython's own SHA-256 for speed: the digests must be SHA-256's exactly,
or every state file written before (or by hashlib) would stop recognising its keys."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from mockpanel.state.tenants import _SHA256, KeyRing, Tenant, _digest


@given(st.binary(max_size=300))
def test_the_builtin_digest_is_sha256(data: bytes) -> None:
    assert _SHA256(data).digest() == hashlib.sha256(data).digest()


@given(st.text(min_size=1, max_size=64))
def test_a_key_is_found_by_its_sha256_digest(key: str) -> None:
    expected = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    assert _digest(key) == expected
    ring = KeyRing()
    tenant = Tenant("t1", "USD")
    ring.restore(expected, tenant)  # as a state file written with hashlib would hold it
    assert ring.find(key) is tenant
    assert ring.find(key + "x") is None
