import pytest

from einvoice.secrets import SecretBox, SecretKeyError, generate_key


def test_round_trip_of_text_and_bytes():
    box = SecretBox(generate_key())
    token = box.encrypt("client-secret-ŝ")
    assert token.startswith("einv1:")
    assert "client-secret" not in token
    assert box.decrypt_text(token) == "client-secret-ŝ"
    key_bytes = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n\x00\xff"
    assert box.decrypt(box.encrypt(key_bytes)) == key_bytes


def test_each_encryption_is_different():
    box = SecretBox("a passphrase from odoo.conf")
    assert box.encrypt("same") != box.encrypt("same")


def test_wrong_key_is_a_clear_error_never_garbage():
    token = SecretBox("right key").encrypt("secret")
    with pytest.raises(SecretKeyError, match="cannot be decrypted with the configured key"):
        SecretBox("wrong key").decrypt(token)


def test_tampered_token_is_refused():
    box = SecretBox("key")
    token = box.encrypt("secret")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretKeyError):
        box.decrypt(tampered)


@pytest.mark.parametrize("value", ["plain text", "", None, "einv1:not-base64-ş"])
def test_values_that_are_not_tokens_are_refused(value):
    with pytest.raises(SecretKeyError):
        SecretBox("key").decrypt(value)


def test_missing_key_is_a_clear_error():
    with pytest.raises(SecretKeyError, match="No encryption key is configured"):
        SecretBox([None, ""])


def test_key_rotation_keeps_old_secrets_readable():
    old_token = SecretBox("old").encrypt("secret")
    rotated_box = SecretBox(["new", "old"])
    assert rotated_box.decrypt_text(old_token) == "secret"
    new_token = rotated_box.rotate(old_token)
    assert SecretBox("new").decrypt_text(new_token) == "secret"
    with pytest.raises(SecretKeyError):
        SecretBox("old").decrypt(new_token)


def test_a_secret_that_is_not_text_is_a_clear_error():
    box = SecretBox("key")
    token = box.encrypt(b"\xff\xfe\x00 a key file, not text")
    with pytest.raises(SecretKeyError, match="not valid UTF-8") as caught:
        box.decrypt_text(token)
    assert caught.value.translated("ro") != str(caught.value)
    assert caught.value.translated("pl") != str(caught.value)


def test_generated_keys_are_random():
    assert generate_key() != generate_key()
    assert len(generate_key()) >= 43
