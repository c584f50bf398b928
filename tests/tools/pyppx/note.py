"""Checkpoints and cosignatures in the C2SP text forms, checked from the
specifications alone (c2sp.org/signed-note, tlog-checkpoint,
tlog-cosignature; docs/PROTOCOL.md 11.1 for ppx's names):

  note      = text, then an empty line, then signature lines
  text      = origin LF decimal-size LF base64(root) LF   (ppx: no extensions)
  line      = U+2014 SP key-name SP base64(key-id || signature) LF
  key-id    = SHA-256(key-name || LF || type || public key)[:4]
  log       type 0x01 (Ed25519), key name = origin = AGENCY "/ppx-log",
            signature over text
  witness   type 0x04 (cosignature/v1), key name = AGENCY "/ppx-witness",
            signature = u64 big-endian timestamp || Ed25519 signature over
            "cosignature/v1" LF "time " decimal(timestamp) LF || text

Usage: python3 -m pyppx.note FILE --log AGENCY=CERT.pem [--witness AGENCY=CERT.pem]...
Exit 0 if the log's signature and every named witness's cosignature verify.
"""
import base64
import hashlib
import struct
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DASH = "\u2014"


class NoteError(Exception):
    pass


def ed25519_key(pem_path):
    with open(pem_path, "rb") as f:
        key = x509.load_pem_x509_certificate(f.read()).public_key()
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise NoteError(pem_path + ": not an Ed25519 key: no C2SP form")
    return key


def key_id(name, sig_type, key):
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + raw).digest()[:4]


def parse(note):
    """(text, [(name, blob)]) of a signed note."""
    if not note.endswith("\n"):
        raise NoteError("a note ends with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("no empty line before the signatures")
    text, sigs = note[:cut + 1], note[cut + 2:]
    lines = []
    for line in sigs.splitlines():
        if not line.startswith(DASH + " "):
            raise NoteError("signature line does not start with an em dash: " + line)
        name, _, b64 = line[2:].partition(" ")
        lines.append((name, base64.b64decode(b64, validate=True)))
    return text, lines


def checkpoint(text):
    origin, size, root = text.split("\n")[:3]
    if text != "%s\n%s\n%s\n" % (origin, size, root):
        raise NoteError("a ppx checkpoint has exactly three lines")
    if str(int(size)) != size or len(base64.b64decode(root, validate=True)) != 32:
        raise NoteError("bad size or root line")
    return origin, int(size), base64.b64decode(root)


def verify_log(text, lines, agency, key):
    name = agency + "/ppx-log"
    origin, _, _ = checkpoint(text)
    if origin != name:
        raise NoteError("origin %s is not %s" % (origin, name))
    kid = key_id(name, 0x01, key)
    for n, blob in lines:
        if n == name and blob[:4] == kid and len(blob) == 68:
            key.verify(blob[4:], text.encode())
            return
    raise NoteError("no signature line of " + name)


def verify_witness(text, lines, agency, key):
    name = agency + "/ppx-witness"
    kid = key_id(name, 0x04, key)
    for n, blob in lines:
        if n == name and blob[:4] == kid and len(blob) == 76:
            (t,) = struct.unpack(">Q", blob[4:12])
            if t >= 2 ** 63:
                raise NoteError("timestamp beyond 2^63 - 1")
            msg = ("cosignature/v1\ntime %d\n" % t).encode() + text.encode()
            key.verify(blob[12:], msg)
            return
    raise NoteError("no cosignature line of " + name)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    args = argv[1:]
    try:
        with open(argv[0], encoding="utf-8") as f:
            text, lines = parse(f.read())
        checkpoint(text)
        for opt, spec in zip(args[::2], args[1::2]):
            agency, _, pem = spec.partition("=")
            key = ed25519_key(pem)
            if opt == "--log":
                verify_log(text, lines, agency, key)
            elif opt == "--witness":
                verify_witness(text, lines, agency, key)
            else:
                raise NoteError("unknown option " + opt)
            print("ok %s %s" % (opt[2:], agency))
    except (NoteError, InvalidSignature, ValueError) as e:
        print("FAILED: %s" % (e or "signature does not verify"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
