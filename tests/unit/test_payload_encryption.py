"""The payload codec: AES-GCM with the key id in the metadata, several keys for rotation."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload

from config import Settings
from service.runtime.encryption import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadDecryptionError,
    PayloadKeyError,
    new_key_text,
    parse_keys,
)
from service.runtime.temporal import DATA_CONVERTER, ConnectionSettingsError, data_converter

CASE_DATA = b'{"reference":"01/123456/26","category":"domestic_abuse"}'


def plain_payload() -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=CASE_DATA)


async def test_a_sealed_payload_hides_the_case_data_and_opens_again() -> None:
    codec = EncryptionCodec(parse_keys(new_key_text("k1")))
    [sealed] = await codec.encode([plain_payload()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert b"01/123456/26" not in sealed.data and b"domestic_abuse" not in sealed.data
    assert await codec.decode([sealed]) == [plain_payload()]


async def test_after_rotation_old_payloads_open_and_new_ones_use_the_newest_key() -> None:
    k1 = new_key_text("k1")
    before = EncryptionCodec(parse_keys(k1))
    [old] = await before.encode([plain_payload()])
    after = EncryptionCodec(parse_keys(f"{new_key_text('k2')},{k1}"))
    assert await after.decode([old]) == [plain_payload()]
    [new] = await after.encode([plain_payload()])
    assert new.metadata[KEY_ID_METADATA] == b"k2"
    assert await after.decode([new]) == [plain_payload()]


async def test_a_payload_sealed_with_a_key_no_longer_listed_gives_one_clear_error() -> None:
    [sealed] = await EncryptionCodec(parse_keys(new_key_text("k1"))).encode([plain_payload()])
    reader = EncryptionCodec(parse_keys(new_key_text("k2")))
    with pytest.raises(PayloadDecryptionError) as raised:
        await reader.decode([sealed])
    assert str(raised.value) == (
        "a payload is encrypted with key 'k1', which PLEDGE_PAYLOAD_KEYS does not list "
        "(it lists k2); add that key back to read it"
    )


async def test_a_relabelled_or_altered_payload_does_not_open() -> None:
    keys = f"{new_key_text('k2')},{new_key_text('k1')}"
    codec = EncryptionCodec(parse_keys(keys))
    [sealed] = await codec.encode([plain_payload()])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_METADATA: b"k1"}, data=sealed.data)
    with pytest.raises(PayloadDecryptionError, match="does not open with that key"):
        await codec.decode([relabelled])
    # One bit flipped (setting the last byte to 0 left it unaltered one time in 256).
    altered = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(PayloadDecryptionError, match="does not open with that key"):
        await codec.decode([altered])


async def test_a_plain_payload_from_before_encryption_still_decodes() -> None:
    codec = EncryptionCodec(parse_keys(new_key_text("k1")))
    assert await codec.decode([plain_payload()]) == [plain_payload()]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nokey", "item 1 has no key id"),
        ("k1:not base64!", "key 'k1' is not valid base64"),
        ("k1:c2hvcnQ=", "key 'k1' is 5 bytes"),
        ("", "item 1 has no key id"),
    ],
)
def test_a_malformed_key_list_is_refused_with_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(PayloadKeyError, match=message) as raised:
        parse_keys(text)
    assert "newest first, each key 32 bytes" in str(raised.value)


def test_a_key_named_twice_is_refused() -> None:
    key = new_key_text("k1")
    with pytest.raises(PayloadKeyError, match="names key 'k1' twice"):
        parse_keys(f"{key},{key}")


def test_a_key_never_shows_in_its_repr() -> None:
    [key] = parse_keys(new_key_text("k1"))
    assert repr(key) == "PayloadKey(id='k1')"


def test_without_keys_the_converter_is_the_plain_one_and_with_keys_it_encrypts() -> None:
    assert data_converter(Settings()) is DATA_CONVERTER
    converter = data_converter(Settings(payload_keys=new_key_text("k1")))
    assert isinstance(converter.payload_codec, EncryptionCodec)
    assert converter.payload_converter_class is DATA_CONVERTER.payload_converter_class


def test_malformed_keys_in_the_settings_are_one_line_naming_the_setting() -> None:
    with pytest.raises(ConnectionSettingsError, match=r"^PLEDGE_PAYLOAD_KEYS key 'k1'"):
        data_converter(Settings(payload_keys="k1:c2hvcnQ="))
