"""Payloads at rest in Temporal: AES-256-GCM under the payload key every process shares.

Temporal keeps every payload of a run in its history, and its Web UI shows
them to whoever reaches it: run inputs, node outputs, signals, updates,
queries, memos and failure messages hold tenants' data. So every payload a
FlowForge client or worker writes goes through :class:`EncryptionCodec`: the
whole serialized payload (metadata and data) is sealed, and the sealed payload
says only ``encoding: binary/encrypted`` and the id of the key that sealed it.

Rotation: payloads are sealed under the current key; the previous keys still
open what they sealed. A payload without the ``binary/encrypted`` marker was
written before encryption was turned on (the golden histories, runs started
before an upgrade): it decodes as itself.

Search attributes are no payloads of a codec: Temporal's visibility indexes
them in plaintext, and FlowForge's hold ids and statuses only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
"""The ``encoding`` metadata of a sealed payload: the marker decode looks for."""
KEY_ID = "encryption-key-id"
"""Metadata naming the key a payload is sealed under (a fingerprint, never the key)."""

_NONCE_BYTES = 12


class PayloadUnreadable(ValueError):
    """A sealed payload does not open: another key sealed it, or it was altered."""


def key_id(key: bytes) -> str:
    """The public name of ``key`` in payload metadata: a hash, so it tells nothing of the key."""
    return hashlib.sha256(b"flowforge payload key\0" + key).hexdigest()[:16]


class EncryptionCodec(PayloadCodec):
    """Seals payloads under the current key and opens those of any key it knows.

    Args:
        current: The key new payloads are sealed under; ``None`` seals nothing
            (encryption turned off), while payloads sealed earlier still open.
        previous: Keys that no longer seal but still open what they sealed.
    """

    def __init__(self, current: bytes | None, previous: Sequence[bytes] = ()) -> None:
        self._current = (key_id(current), AESGCM(current)) if current is not None else None
        self._keys = {key_id(key): AESGCM(key) for key in previous}
        if self._current is not None:
            self._keys[self._current[0]] = self._current[1]

    @property
    def encrypts(self) -> bool:
        """Whether new payloads are sealed (a key is current)."""
        return self._current is not None

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Every payload sealed under the current key (unchanged when none is current).

        Returns:
            One sealed payload per payload given.
        """
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Every sealed payload opened; one without the marker as it is.

        Returns:
            One payload per payload given.

        Raises:
            PayloadUnreadable: a payload was sealed under a key this codec lacks,
                or altered.
        """
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        """``payload`` (metadata included) encrypted under the current key."""
        if self._current is None:
            return payload
        name, aead = self._current
        nonce = os.urandom(_NONCE_BYTES)
        # The key id is associated data: a payload relabelled with another id does not open.
        sealed = aead.encrypt(nonce, payload.SerializeToString(), name.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: name.encode()}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        """The payload ``payload`` seals, or ``payload`` itself if it is not sealed.

        Raises:
            PayloadUnreadable: it names a key this codec lacks, or it was altered.
        """
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        name = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        aead = self._keys.get(name)
        if aead is None:
            raise PayloadUnreadable(
                f"a payload is sealed under key id {name!r}, which is neither "
                "FLOWFORGE_PAYLOAD_KEY nor in FLOWFORGE_PAYLOAD_PREVIOUS_KEYS: "
                "give this process the key that sealed it"
            )
        nonce, body = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        try:
            plain = aead.decrypt(nonce, body, name.encode())
        except InvalidTag:
            raise PayloadUnreadable(
                f"a payload sealed under key id {name!r} was altered and does not open"
            ) from None
        opened = Payload()
        opened.ParseFromString(plain)
        return opened
