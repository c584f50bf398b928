"""ppx signatures (PROTOCOL.md 3): "ppx/v1/" || label || 0x00 || bytes,
Ed25519 (RFC 8032) or ECDSA P-256 with SHA-256 (DER signature), checked
with the public key of an X.509 certificate given as DER."""
import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

SIG_ED25519 = 1
SIG_ECDSA_P256_SHA256 = 2
LABELS = {1: b"body", 2: b"receipt", 3: b"checkpoint", 4: b"person"}


def fingerprint(der: bytes) -> bytes:
    return hashlib.sha256(der).digest()


def verify_raw(cert_der: bytes, algorithm: int, message: bytes, signature: bytes) -> bool:
    key = x509.load_der_x509_certificate(cert_der).public_key()
    try:
        if algorithm == SIG_ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
            return True
        if algorithm == SIG_ECDSA_P256_SHA256 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
    except InvalidSignature:
        return False
    return False


def verify_ppx(cert_der: bytes, algorithm: int, purpose: int, signed: bytes,
               signature: bytes) -> bool:
    msg = b"ppx/v1/" + LABELS[purpose] + b"\x00" + signed
    return verify_raw(cert_der, algorithm, msg, signature)
