"""A key is found by its SHA-256 digest, whichever SHA-256 computes it.

``key_digest`` has a shortcut (CPython's built-in SHA-256) and a reference twin (hashlib's,
``MOCKPANEL_NO_SHORTCUTS``): the digests must be SHA-256's exactly, or every state file written
before (or by hashlib) would stop recognising its keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockpanel.state.tenants import KeyRing, Tenant, key_digest_reference, key_digest_shortcut

DIGESTS = pytest.mark.parametrize(
    "key_digest", [key_digest_reference, key_digest_shortcut], ids=["reference", "shortcut"]
)


@DIGESTS
@given(key=st.text(min_size=1, max_size=64))
def test_a_key_is_found_by_its_sha256_digest(key_digest: Callable[[str], bytes], key: str) -> None:
    expected = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    assert key_digest(key) == expected
    ring = KeyRing()
    tenant = Tenant("t1", "USD")
    ring.restore(expected, tenant)  # as a state file written with hashlib would hold it
    assert ring.find(key) is tenant
    assert ring.find(key + "x") is None


@DIGESTS
def test_a_malformed_key_from_the_wire_is_digested_not_refused(
    key_digest: Callable[[str], bytes],
) -> None:
    assert len(key_digest("\ud800")) == hashlib.sha256().digest_size


class TestShortcutMatchesReference:
    @given(st.text(max_size=300))
    def test_any_key(self, key: str) -> None:
        assert key_digest_shortcut(key) == key_digest_reference(key)
