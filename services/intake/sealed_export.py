"""The export of a sealed report's content for the level above (decision 0013).

The content is encrypted for the receiver: a fresh AES-256-GCM key encrypts the document
(JSON: the report's ledger number, dates, categories, subjects and the sealed content), and
RSA-OAEP with SHA-256 wraps that key under the receiver's public key. Only the holder of the
receiver's private key reads it; intake keeps nothing of the export but the key's
fingerprint in the handover event.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALGORITHM = "RSA-OAEP-SHA256+AES-256-GCM"
MIN_RSA_BITS = 2048


class BadRecipientKey(ValueError):
    pass


def load_recipient_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise BadRecipientKey(
            "recipient_public_key: not a PEM public key (-----BEGIN PUBLIC KEY-----)"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise BadRecipientKey(f"recipient_public_key: an RSA key of {MIN_RSA_BITS} bits or more")
    return key


def key_fingerprint(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def encrypt_for(key: rsa.RSAPublicKey, document: dict[str, Any]) -> dict[str, str]:
    aes_key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(12)
    plain = json.dumps(document, ensure_ascii=False, default=str).encode()
    wrapped = key.encrypt(
        aes_key,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    b64 = base64.b64encode
    return {
        "algorithm": ALGORITHM,
        "recipient_key_sha256": key_fingerprint(key),
        "wrapped_key": b64(wrapped).decode(),
        "nonce": b64(nonce).decode(),
        "ciphertext": b64(AESGCM(aes_key).encrypt(nonce, plain, None)).decode(),
    }


def decrypt_with(private_key: rsa.RSAPrivateKey, export: dict[str, str]) -> dict[str, Any]:
    """What the receiver does (and the tests): the document back."""
    aes_key = private_key.decrypt(
        base64.b64decode(export["wrapped_key"]),
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    plain = AESGCM(aes_key).decrypt(
        base64.b64decode(export["nonce"]), base64.b64decode(export["ciphertext"]), None
    )
    document: dict[str, Any] = json.loads(plain)
    return document
