"""ppx signatures (PROTOCOL.md 3): "ppx/v1/" || label || 0x00 || bytes,
Ed25519 (RFC 8032) or ECDSA P-256 with SHA-256 (DER signature), checked
with the public key of an X.509 certificate given as DER."""
import hashlib
import struct

from . import merkle

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

SIG_ED25519 = 1
SIG_ECDSA_P256_SHA256 = 2
LABELS = {1: b"body", 2: b"receipt", 3: b"checkpoint", 4: b"person",
          6: b"restore", 7: b"batch"}
BATCH_TREE_MAX = 65536
MAX_PATH = 64


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


def batch_message(signed_body: bytes, batch):
    """The bytes a batch signature covers (PROTOCOL.md 3.4), from one
    body and its BatchInclusion, or None with why it is malformed:
        "ppx/v1/batch" 0x00 || uint64_be(tree_size) || root
    where root is the RFC 6962 root the inclusion path leads to from the
    leaf "ppx/v1/body" 0x00 || signed_body."""
    if not 1 <= batch.tree_size <= BATCH_TREE_MAX:
        return None, "a batch of %d bodies" % batch.tree_size
    if batch.leaf_index >= batch.tree_size:
        return None, "leaf %d outside the batch" % batch.leaf_index
    if len(batch.path) > MAX_PATH or any(len(h) != 32 for h in batch.path):
        return None, "a malformed batch path"
    leaf = merkle.leaf_hash(b"ppx/v1/body\x00" + signed_body)
    root = merkle.root_from_inclusion(leaf, batch.leaf_index,
                                      batch.tree_size, list(batch.path))
    if root is None:
        return None, "the batch path does not fit its tree"
    return b"ppx/v1/batch\x00" + struct.pack(">Q", batch.tree_size) + root, None
