"""The payload codec and the converter each process builds from its settings."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from interpreter.contract.codec import ENCODING, KEY_ID, EncryptionCodec, PayloadUnreadable, key_id
from interpreter.settings import PAYLOAD_KEY_FILE, CommonSettings

pytestmark = pytest.mark.fast


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def raw(key: str) -> bytes:
    return base64.urlsafe_b64decode(key)


PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"card": "4111-1111"}')


async def test_a_sealed_payload_shows_neither_its_data_nor_its_metadata() -> None:
    key = new_key()
    codec = EncryptionCodec(raw(key))
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID].decode() == key_id(raw(key))
    assert b"4111" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [PLAIN]


async def test_a_payload_sealed_under_a_previous_key_opens_after_rotation() -> None:
    old, new = new_key(), new_key()
    [sealed] = await EncryptionCodec(raw(old)).encode([PLAIN])
    rotated = EncryptionCodec(raw(new), [raw(old)])
    assert await rotated.decode([sealed]) == [PLAIN]
    [resealed] = await rotated.encode([PLAIN])
    assert resealed.metadata[KEY_ID].decode() == key_id(raw(new))


async def test_a_plaintext_payload_decodes_as_itself() -> None:
    assert await EncryptionCodec(raw(new_key())).decode([PLAIN]) == [PLAIN]


async def test_an_unknown_key_or_an_altered_payload_is_refused_by_name() -> None:
    [sealed] = await EncryptionCodec(raw(new_key())).encode([PLAIN])
    with pytest.raises(PayloadUnreadable, match="FLOWFORGE_PAYLOAD_PREVIOUS_KEYS"):
        await EncryptionCodec(raw(new_key())).decode([sealed])
    key = new_key()
    [sealed] = await EncryptionCodec(raw(key)).encode([PLAIN])
    altered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + b"\0")
    with pytest.raises(PayloadUnreadable, match="altered"):
        await EncryptionCodec(raw(key)).decode([altered])


async def test_the_converter_seals_values_and_failure_messages() -> None:
    converter = CommonSettings(payload_key=new_key()).data_converter()
    [payload] = await converter.encode([{"card": "4111-1111"}])
    assert b"4111" not in payload.SerializeToString()
    assert await converter.decode([payload]) == [{"card": "4111-1111"}]
    failure = Failure()
    await converter.encode_failure(ValueError("card 4111-1111 declined"), failure)
    assert b"4111" not in failure.SerializeToString()
    assert "card 4111-1111 declined" in str(await converter.decode_failure(failure))


def test_prod_refuses_to_build_a_converter_without_a_payload_key(tmp_path: Path) -> None:
    settings = CommonSettings(environment="prod", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="FLOWFORGE_PAYLOAD_KEY must be set outside dev"):
        settings.data_converter()
    assert not (tmp_path / PAYLOAD_KEY_FILE).exists()


async def test_encryption_is_off_only_when_said_so(tmp_path: Path) -> None:
    off = CommonSettings(environment="prod", payload_encryption=False, data_dir=str(tmp_path))
    [payload] = await off.data_converter().encode(["plain"])
    assert payload.data == b'"plain"'


async def test_dev_keeps_one_payload_key_under_data_dir_for_the_api_and_the_workers(
    tmp_path: Path,
) -> None:
    data_dir = str(tmp_path / "data")
    api = CommonSettings(environment="dev", data_dir=data_dir).data_converter()
    [sealed] = await api.encode(["shared"])
    key_file = Path(data_dir) / PAYLOAD_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    worker = CommonSettings(payload_key=key_file.read_text()).data_converter()
    assert await worker.decode([sealed]) == ["shared"]


def test_a_malformed_payload_key_stops_startup() -> None:
    with pytest.raises(ValueError, match="FLOWFORGE_PAYLOAD_KEY must be 32 random bytes"):
        CommonSettings(payload_key="short")
    with pytest.raises(ValueError, match="FLOWFORGE_PAYLOAD_KEY must be 32 random bytes"):
        CommonSettings(payload_previous_keys="short")
