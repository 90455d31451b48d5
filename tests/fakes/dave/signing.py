"""SignWithLabel / VerifyWithLabel (RFC 9420 §5.1.2) for ciphersuite 2: ECDSA P-256, SHA-256.

Signatures are DER-encoded; public keys are SEC1 uncompressed points, as davey
(openmls) writes them.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fakes.dave import mls_wire

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def sign_with_label(key: ec.EllipticCurvePrivateKey, label: str, content: bytes) -> bytes:
    return key.sign(mls_wire.sign_content(label, content), _ECDSA_SHA256)


def verify_with_label(public_key: bytes, label: str, content: bytes, signature: bytes) -> bool:
    """False for a bad signature *or* a public key that is not a P-256 point."""
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
        key.verify(signature, mls_wire.sign_content(label, content), _ECDSA_SHA256)
    except (InvalidSignature, ValueError):
        return False
    return True
