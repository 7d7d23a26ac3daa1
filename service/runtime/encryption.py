"""Payload encryption: what Temporal stores of a case (names, contact details, the
reference) is AES-256-GCM ciphertext, readable only with the force's keys.

Several keys at once, so keys can be rotated: new payloads are sealed with the first
(newest) key and carry its id in their metadata; a payload sealed with any listed key
still opens. A plain payload (written before encryption was switched on) passes
through decoding unchanged, so switching it on needs no migration of running cases.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
KEYS_SETTING = "PLEDGE_PAYLOAD_KEYS"
KEYS_FORMAT = "id:base64key,id:base64key (newest first, each key 32 bytes)"


class PayloadKeyError(ValueError):
    """The key list in the settings is malformed; the message says what is accepted."""


class PayloadDecryptionError(RuntimeError):
    """A payload could not be opened: its key is not configured, or it was altered."""


@dataclass(frozen=True)
class PayloadKey:
    id: str
    secret: bytes

    def __repr__(self) -> str:  # never the key itself, not even in a traceback
        return f"PayloadKey(id={self.id!r})"


def parse_keys(text: str) -> list[PayloadKey]:
    """`k2:base64,k1:base64` -> keys, newest first; PayloadKeyError on anything else."""
    keys: list[PayloadKey] = []
    for position, item in enumerate(part.strip() for part in text.split(",")):
        key_id, separator, encoded = item.partition(":")
        key_id = key_id.strip()
        if not separator or not key_id:
            raise PayloadKeyError(
                f"{KEYS_SETTING} item {position + 1} has no key id: expected {KEYS_FORMAT}"
            )
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise PayloadKeyError(
                f"{KEYS_SETTING} key {key_id!r} is not valid base64: expected {KEYS_FORMAT}"
            ) from None
        if len(secret) != KEY_BYTES:
            raise PayloadKeyError(
                f"{KEYS_SETTING} key {key_id!r} is {len(secret)} bytes: expected {KEYS_FORMAT}"
            )
        if any(key.id == key_id for key in keys):
            raise PayloadKeyError(f"{KEYS_SETTING} names key {key_id!r} twice")
        keys.append(PayloadKey(key_id, secret))
    return keys


def new_key_text(key_id: str) -> str:
    """A fresh key as one `id:base64` item, to put first in PLEDGE_PAYLOAD_KEYS."""
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec):
    """Seals every payload with the newest key; opens any payload sealed with a listed key."""

    def __init__(self, keys: Sequence[PayloadKey]) -> None:
        if not keys:
            raise PayloadKeyError(f"{KEYS_SETTING} is empty: expected {KEYS_FORMAT}")
        self._newest = keys[0]
        self._ciphers = {key.id: AESGCM(key.secret) for key in keys}

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        key_id = self._newest.id
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated too: relabelling a payload makes it fail to open.
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"a payload is encrypted with key {key_id!r}, which {KEYS_SETTING} does not "
                f"list (it lists {', '.join(self._ciphers)}); add that key back to read it"
            )
        try:
            plain = cipher.decrypt(
                payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode()
            )
        except InvalidTag:
            raise PayloadDecryptionError(
                f"a payload encrypted with key {key_id!r} does not open with that key: "
                "the key's value differs from the one that sealed it, or the payload was altered"
            ) from None
        opened = Payload()
        opened.ParseFromString(plain)
        return opened
