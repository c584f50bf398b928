"""The signed federation directory (PROTOCOL.md 13), written from
docs/PROTOCOL.md section 13, proto/ppx.proto and certs/README.md alone (no
C source): a verifier applying the rules of 13.2 in order, and a signer
for crafting test inputs.

    python3 -m pyppx.directory verify FILE --ca CA [--crl CRL] [--now-ms N | --no-time]
    python3 -m pyppx.directory sign SPEC.json --key K --cert C -o OUT
    python3 -m pyppx.directory craft KIND SPEC.json --key K --cert C -o OUT
        [--other-key K2 --other-cert C2]

verify prints "OK serial N federation F agencies K" and exits 0, or
"REFUSED: rule R: DETAIL" and exits 1 (2: bad use).  sign reads the spec
`ppx directory make` reads (certs/README.md, ppx-pki directory-sign).
craft signs the spec and then breaks one rule of 13.2 (KINDS below)."""
import argparse
import datetime
import hashlib
import ipaddress
import json
import os
import re
import sys
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

import ppx_pb2 as pb

MAX_BYTES = 8 * 1024 * 1024            # PPX_DIRECTORY_MAX_BYTES
LABEL = b"ppx/v1/directory\x00"
SIG_ED25519, SIG_ECDSA_P256_SHA256 = 1, 2
STATUS = {"active": 1, "suspended": 2, "leaving": 3}
TYPES = {"police", "probation", "prison", "youth-offending", "housing",
         "health", "children", "adult-social-care", "education", "jobcentre",
         "immigration", "council", "other"}
NAME_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$")
HOST_RE = re.compile(r"^[A-Za-z0-9.-]+$")
PORT_RE = re.compile(r"^[1-9][0-9]{0,4}$")

# The schema of 13.1 as wire types: field number -> wire type (0 varint,
# 2 length-delimited).  Anything else is a field the schema does not name.
SCHEMA_SIGNED = {1: 2, 2: 0, 3: 2, 4: 2}
SCHEMA_DIRECTORY = {1: 2, 2: 0, 3: 0, 4: 0, 5: 0, 6: 2, 7: 2}
SCHEMA_AGENCY = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 0}


class Refused(Exception):
    def __init__(self, rule, detail):
        super().__init__("rule %d: %s" % (rule, detail))
        self.rule = rule
        self.detail = detail


class Malformed(Exception):
    pass


# ---------------------------------------------------------------- wire walk

def _varint(b, i):
    n = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise Malformed("truncated varint")
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def fields(b):
    """(number, wire type, value) of each field of B, in order."""
    i, out = 0, []
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise Malformed("field number 0")
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            if i + n > len(b):
                raise Malformed("truncated field %d" % num)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            if i + 8 > len(b):
                raise Malformed("truncated")
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            if i + 4 > len(b):
                raise Malformed("truncated")
            v, i = b[i:i + 4], i + 4
        else:
            raise Malformed("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def unknown(b, schema, what):
    """The first field of B the schema does not name, as text, or None."""
    for num, wt, _ in fields(b):
        if schema.get(num) != wt:
            return "%s has field %d (wire type %d) the schema does not name" % (what, num, wt)
    return None


# ---------------------------------------------------------------- certificates

def one(name, oid):
    v = name.get_attributes_for_oid(oid)
    return v[0].value if len(v) == 1 else None


def ca_signed(ca, signature, tbs, hash_algorithm):
    key = ca.public_key()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, tbs)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, tbs, ec.ECDSA(hash_algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def load_der(der):
    """One DER certificate that re-encodes to its bytes, or None."""
    try:
        c = x509.load_der_x509_certificate(bytes(der))
    except ValueError:
        return None
    try:
        if c.public_bytes(serialization.Encoding.DER) != bytes(der):
            return None
    except ValueError:
        return None
    return c


def in_role(cert, ca, role):
    """Why CERT is not a certificate of the CA in ROLE, or None."""
    if cert.issuer != ca.subject or not ca_signed(
            ca, cert.signature, cert.tbs_certificate_bytes,
            cert.signature_hash_algorithm):
        return "not issued by the CA"
    if one(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME) != role:
        return "not a %s certificate (OU)" % role
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "no keyUsage"
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if is_ca:
        return "a CA certificate"
    need = ku.key_agreement if role == "transport" else ku.digital_signature
    if not need:
        return "keyUsage lacks %s" % ("keyAgreement" if role == "transport" else "digitalSignature")
    return None


def key_algorithm(cert):
    k = cert.public_key()
    if isinstance(k, ed25519.Ed25519PublicKey):
        return SIG_ED25519
    if isinstance(k, ec.EllipticCurvePublicKey) and k.curve.name == "secp256r1":
        return SIG_ECDSA_P256_SHA256
    return None


def _utc_ms(dt):
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp() * 1000)


def not_before(c):
    return _utc_ms(getattr(c, "not_valid_before_utc", None) or c.not_valid_before)


def not_after(c):
    return _utc_ms(getattr(c, "not_valid_after_utc", None) or c.not_valid_after)


def crl_current(crl, ca, now_ms):
    if crl is None:
        return True
    if not ca_signed(ca, crl.signature, crl.tbs_certlist_bytes,
                     crl.signature_hash_algorithm):
        return False
    nu = getattr(crl, "next_update_utc", None) or crl.next_update
    return nu is not None and now_ms < _utc_ms(nu)


# ---------------------------------------------------------------- 13.2

def endpoint_ok(ep):
    if not ep.startswith("tcp://"):
        return False
    rest = ep[6:]
    host, sep, port = rest.rpartition(":")
    if not sep or not PORT_RE.match(port) or int(port) > 65535:
        return False
    if host.startswith("["):
        if not host.endswith("]"):
            return False
        if "%" in host:             # no zone: an address, as C does
            return False
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    # 13.2 says only "letters, digits, . and -"; like ppx (see
    # docs-findings), no "." or "-" first or last and at most 253 characters
    return (bool(HOST_RE.match(host)) and len(host) <= 253
            and host[0] not in ".-" and host[-1] not in ".-")


def strings_ok(d):
    ss = [("federation", d.federation), ("baseline policy", d.baseline_policy)]
    for i, a in enumerate(d.agencies):
        ss += [("agency %d name" % i, a.name), ("agency %d type" % i, a.type),
               ("agency %d display name" % i, a.display_name)]
        ss += [("agency %d endpoint %d" % (i, j), e) for j, e in enumerate(a.endpoints)]
    for what, s in ss:
        if "\x00" in s:
            return what
    return None


def verify(data, ca, crl=None, now_ms=None):
    """Judge DATA (a SignedDirectory's bytes) by 13.2; the Directory, or
    raise Refused.  now_ms None: judged without time (rules marked †)."""
    # 1: size, decoding, no unknown field
    if not 1 <= len(data) <= MAX_BYTES:
        raise Refused(1, "size %d not 1 byte to 8 MiB" % len(data))
    try:
        why = unknown(data, SCHEMA_SIGNED, "SignedDirectory")
        sd = pb.SignedDirectory.FromString(data)
    except Exception as e:
        raise Refused(1, "does not decode as a SignedDirectory: %s" % e)
    if why:
        raise Refused(1, why)
    try:
        why = unknown(sd.directory, SCHEMA_DIRECTORY, "Directory")
        if not why:
            for num, _, v in fields(sd.directory):
                if num == 6:
                    why = unknown(v, SCHEMA_AGENCY, "DirectoryAgency")
                    if why:
                        break
    except Malformed:
        why = None          # not a Directory at all: rule 5 says so
    if why:
        raise Refused(1, why)

    # 2: the signer certificate
    cert = load_der(sd.signer_certificate)
    if cert is None:
        raise Refused(2, "signer certificate is not one DER certificate")
    why = in_role(cert, ca, "directory")
    if why:
        raise Refused(2, "signer is not a directory certificate: " + why)
    if now_ms is not None:
        if not not_before(cert) <= now_ms <= not_after(cert):
            raise Refused(2, "signer certificate outside its validity period")
        if crl is not None:
            if not crl_current(crl, ca, now_ms):
                raise Refused(2, "no current CRL")
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number):
                raise Refused(2, "signer certificate revoked")

    # 3: the algorithm is the key's
    alg = key_algorithm(cert)
    if alg is None or sd.algorithm != alg:
        raise Refused(3, "algorithm %d is not that of the signer's key" % sd.algorithm)

    # 4: the signature
    try:
        k = cert.public_key()
        if alg == SIG_ED25519:
            k.verify(sd.signature, LABEL + sd.directory)
        else:
            k.verify(sd.signature, LABEL + sd.directory, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise Refused(4, "bad signature")

    # 5: a Directory, strings UTF-8 without NUL
    try:
        fields(sd.directory)
        d = pb.Directory.FromString(sd.directory)
    except Exception as e:
        raise Refused(5, "directory does not decode as a Directory: %s" % e)
    nul = strings_ok(d)
    if nul:
        raise Refused(5, "%s has a NUL" % nul)

    pre = "directory serial %d: " % d.serial
    # 6: the directory as a whole
    fed = d.federation
    if not 1 <= len(fed) <= 63 or any(not 0x20 <= ord(c) < 0x7F for c in fed):
        raise Refused(6, pre + "federation name not 1 to 63 printable ASCII characters")
    signer_o = one(cert.subject, NameOID.ORGANIZATION_NAME)
    if fed != signer_o:
        raise Refused(6, pre + "federation %s is not the signer's (%s)" % (fed, signer_o))
    if d.serial < 1:
        raise Refused(6, pre + "serial 0")
    if not d.not_before_ms < d.not_after_ms:
        raise Refused(6, pre + "not_before_ms not before not_after_ms")
    if now_ms is not None:
        if now_ms < d.not_before_ms:
            raise Refused(6, pre + "not yet valid")
        if now_ms >= d.not_after_ms:
            raise Refused(6, pre + "expired")
    if not 1 <= len(d.agencies) <= 4096:
        raise Refused(6, pre + "%d agencies: 1 to 4096" % len(d.agencies))
    if len(d.baseline_policy.encode()) > 256 * 1024:
        raise Refused(6, pre + "baseline policy over 256 KiB")

    # 7: each agency in order
    names, seen = set(), set()
    for i, a in enumerate(d.agencies):
        at = pre + "agency %s: " % (a.name if NAME_RE.match(a.name) else "%d" % i)
        if not NAME_RE.match(a.name) or len(a.name) >= 128:
            raise Refused(7, pre + "agency %d: bad name" % i)
        if a.name in names:
            raise Refused(7, at + "listed twice")
        names.add(a.name)
        if a.type not in TYPES:
            raise Refused(7, at + "unknown type %r" % a.type)
        first = a.name.split(".")[0]
        responsible = ("police", "probation", "prison")
        if (first in responsible or a.type in responsible) and first != a.type:
            raise Refused(7, at + "type %s does not fit its name" % a.type)
        if len(a.display_name.encode()) >= 128:
            raise Refused(7, at + "display name 128 bytes or more")
        if not 1 <= len(a.endpoints) <= 4:
            raise Refused(7, at + "%d endpoints" % len(a.endpoints))
        for j, ep in enumerate(a.endpoints):
            if not endpoint_ok(ep):
                raise Refused(7, at + "endpoint %d %r" % (j, ep))
        if a.status not in (1, 2, 3):
            raise Refused(7, at + "status %d" % a.status)
        for role, certs in (("signing", a.signing_certificates),
                            ("transport", a.transport_certificates)):
            if not 1 <= len(certs) <= 4:
                raise Refused(7, at + "%d %s certificates" % (len(certs), role))
            for j, der in enumerate(certs):
                what = at + "%s certificate %d" % (role, j)
                c = load_der(der)
                if c is None:
                    raise Refused(7, what + " is not one DER certificate")
                why = in_role(c, ca, role)
                if why:
                    raise Refused(7, what + ": " + why)
                o = one(c.subject, NameOID.ORGANIZATION_NAME)
                if o != a.name:
                    raise Refused(7, what + " names %s" % o)
                h = hashlib.sha256(der).digest()
                if h in seen:
                    raise Refused(7, what + " is listed twice")
                seen.add(h)
    return d


# ---------------------------------------------------------------- signing

def load_cert_der(path):
    raw = open(path, "rb").read()
    if b"-----BEGIN" in raw:
        return x509.load_pem_x509_certificate(raw).public_bytes(serialization.Encoding.DER)
    return raw


def parse_time(s):
    return _utc_ms(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def directory_from_spec(spec_path, now_ms=None):
    """The Directory a spec describes (certs/README.md)."""
    spec = json.load(open(spec_path))
    base = os.path.dirname(os.path.abspath(spec_path))
    rel = lambda p: p if os.path.isabs(p) else os.path.join(base, p)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    d = pb.Directory()
    d.federation = spec["federation"]
    d.serial = spec["serial"]
    d.issued_ms = now
    if "not_before" in spec or "not_after" in spec:
        d.not_before_ms = parse_time(spec["not_before"])
        d.not_after_ms = parse_time(spec["not_after"])
    elif "valid_days" in spec:
        d.not_before_ms = now - 60 * 1000
        d.not_after_ms = now + int(spec["valid_days"]) * 86400 * 1000
    else:
        raise SystemExit('pyppx.directory: give "valid_days", or "not_before" and "not_after"')
    if spec.get("baseline_policy_file"):
        d.baseline_policy = open(rel(spec["baseline_policy_file"])).read()
    for a in spec["agencies"]:
        x = d.agencies.add()
        x.name = a["name"]
        x.type = a["type"]
        x.display_name = a.get("display_name", "")
        x.endpoints.extend(a["endpoints"])
        if a.get("status") not in STATUS:
            raise SystemExit('pyppx.directory: agency %s: "status" must be active, suspended or leaving' % a["name"])
        x.status = STATUS[a["status"]]
        x.signing_certificates.extend(load_cert_der(rel(p)) for p in a["signing_certificates"])
        x.transport_certificates.extend(load_cert_der(rel(p)) for p in a["transport_certificates"])
    return d


def sign_bytes(directory_bytes, key_path, cert_path, algorithm=None):
    """A SignedDirectory over DIRECTORY_BYTES exactly."""
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    msg = LABEL + directory_bytes
    if isinstance(key, ed25519.Ed25519PrivateKey):
        sig, alg = key.sign(msg), SIG_ED25519
    else:
        sig, alg = key.sign(msg, ec.ECDSA(hashes.SHA256())), SIG_ECDSA_P256_SHA256
    sd = pb.SignedDirectory()
    sd.directory = directory_bytes
    sd.algorithm = alg if algorithm is None else algorithm
    sd.signature = sig
    sd.signer_certificate = load_cert_der(cert_path)
    return sd


def tag(num, wt):
    return bytes(_enc_varint(num << 3 | wt))


def _enc_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return out


def ld(num, payload):
    return tag(num, 2) + bytes(_enc_varint(len(payload))) + payload


# Each KIND: (what it breaks, function(directory, args) -> SignedDirectory bytes)
def _resign(d, a, **kw):
    return sign_bytes(d.SerializeToString(), a.key, a.cert, **kw).SerializeToString()


def _mutate(fn):
    def run(d, a):
        fn(d)
        return _resign(d, a)
    return run


def _badsig(d, a):
    sd = sign_bytes(d.SerializeToString(), a.key, a.cert)
    sd.signature = bytes([sd.signature[0] ^ 1]) + sd.signature[1:]
    return sd.SerializeToString()


def _flipdir(d, a):
    sd = sign_bytes(d.SerializeToString(), a.key, a.cert)
    b = bytearray(sd.directory)
    b[len(b) // 2] ^= 0x01
    sd.directory = bytes(b)
    return sd.SerializeToString()


def _other_signer(d, a):
    return sign_bytes(d.SerializeToString(), a.other_key, a.other_cert).SerializeToString()


def _unknown_signed(d, a):
    return _resign(d, a) + ld(9, b"x")


def _unknown_dir(d, a):
    return sign_bytes(d.SerializeToString() + ld(15, b"x"), a.key, a.cert).SerializeToString()


def _unknown_agency(d, a):
    db = pb.Directory()
    db.CopyFrom(d)
    del db.agencies[:]
    raw = db.SerializeToString()
    for i, x in enumerate(d.agencies):
        ab = x.SerializeToString()
        if i == 0:
            ab += tag(8, 0) + b"\x01"
        raw += ld(6, ab)
    return sign_bytes(raw, a.key, a.cert).SerializeToString()


def _wrong_alg(d, a):
    sd = sign_bytes(d.SerializeToString(), a.key, a.cert)
    sd.algorithm = SIG_ECDSA_P256_SHA256 if sd.algorithm == SIG_ED25519 else SIG_ED25519
    return sd.SerializeToString()


def _pem_signer(d, a):
    sd = sign_bytes(d.SerializeToString(), a.key, a.cert)
    sd.signer_certificate = open(a.cert, "rb").read()
    return sd.SerializeToString()


def _not_proto(d, a):
    return b"\xff\xff\xff\xff not a protobuf"


def _empty(d, a):
    return b""


def _dup(d, a):
    d.agencies.add().CopyFrom(d.agencies[0])


def _foreign_cert(d, a):
    d.agencies[0].transport_certificates[0] = d.agencies[1].transport_certificates[0]


def _role_swap(d, a):
    d.agencies[0].signing_certificates[0] = d.agencies[0].transport_certificates[0]


def _same_cert_twice(d, a):
    d.agencies[0].signing_certificates.append(d.agencies[0].signing_certificates[0])


def _no_transport(d, a):
    del d.agencies[0].transport_certificates[:]


def _set(path_fn):
    def run(d, a):
        path_fn(d)
        return _resign(d, a)
    return run


def _expired(d):
    d.not_before_ms = 1577836800000
    d.not_after_ms = 1609459200000


def _future(d):
    d.not_before_ms = int(time.time() * 1000) + 86400000
    d.not_after_ms = d.not_before_ms + 86400000


CRAFT = {
    "empty": (1, _empty),
    "not-protobuf": (1, _not_proto),
    "unknown-field-signed": (1, _unknown_signed),
    "unknown-field-directory": (1, _unknown_dir),
    "unknown-field-agency": (1, _unknown_agency),
    "pem-signer": (2, _pem_signer),
    "agency-signer": (2, _other_signer),
    "wrong-algorithm": (3, _wrong_alg),
    "bad-signature": (4, _badsig),
    "changed-directory": (4, _flipdir),
    "nul-in-display-name": (5, _set(lambda d: setattr(d.agencies[0], "display_name", "Gwent\x00Police"))),
    "other-federation": (6, _set(lambda d: setattr(d, "federation", "scotland"))),
    "serial-zero": (6, _set(lambda d: setattr(d, "serial", 0))),
    "backwards-validity": (6, _set(lambda d: (setattr(d, "not_before_ms", d.not_after_ms)))),
    "expired": (6, _set(_expired)),
    "not-yet-valid": (6, _set(_future)),
    "no-agency": (6, _set(lambda d: d.ClearField("agencies"))),
    "big-baseline": (6, _set(lambda d: setattr(d, "baseline_policy", "#" * (256 * 1024 + 1)))),
    "bad-name": (7, _set(lambda d: setattr(d.agencies[0], "name", "Police.Gwent"))),
    "duplicate-agency": (7, _set(lambda d: d.agencies.add().CopyFrom(d.agencies[0]))),
    "bad-type": (7, _set(lambda d: setattr(d.agencies[0], "type", "police-force"))),
    "type-not-of-name": (7, _set(lambda d: setattr(d.agencies[0], "type", "housing"))),
    "ipv4-bracketed": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "tcp://[10.0.0.1]:7101"))),
    "long-display-name": (7, _set(lambda d: setattr(d.agencies[0], "display_name", "x" * 128))),
    "no-endpoint": (7, _set(lambda d: d.agencies[0].ClearField("endpoints"))),
    "five-endpoints": (7, _set(lambda d: d.agencies[0].endpoints.extend(["tcp://h:%d" % p for p in range(1, 5)]))),
    "port-zero": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "tcp://127.0.0.1:0"))),
    "port-leading-zero": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "tcp://127.0.0.1:07101"))),
    "port-too-big": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "tcp://127.0.0.1:65536"))),
    "not-tcp": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "udp://127.0.0.1:7101"))),
    "endpoint-path": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "tcp://127.0.0.1:7101/x"))),
    "ipv6-unbracketed": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "tcp://::1:7101"))),
    "bad-host": (7, _set(lambda d: d.agencies[0].endpoints.__setitem__(0, "tcp://ho_st:7101"))),
    "status-zero": (7, _set(lambda d: setattr(d.agencies[0], "status", 0))),
    "status-four": (7, _set(lambda d: setattr(d.agencies[0], "status", 4))),
    "no-transport": (7, _mutate(lambda d: _no_transport(d, None))),
    "foreign-certificate": (7, _mutate(lambda d: _foreign_cert(d, None))),
    "transport-as-signing": (7, _mutate(lambda d: _role_swap(d, None))),
    "certificate-twice": (7, _mutate(lambda d: _same_cert_twice(d, None))),
}


# ---------------------------------------------------------------- CLI

def main(argv):
    p = argparse.ArgumentParser(prog="pyppx.directory")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("file")
    v.add_argument("--ca", required=True)
    v.add_argument("--crl")
    v.add_argument("--now-ms", type=int)
    v.add_argument("--no-time", action="store_true")
    for name in ("sign", "craft"):
        s = sub.add_parser(name)
        if name == "craft":
            s.add_argument("kind", choices=sorted(CRAFT))
        s.add_argument("spec")
        s.add_argument("--key", required=True)
        s.add_argument("--cert", required=True)
        s.add_argument("--other-key")
        s.add_argument("--other-cert")
        s.add_argument("-o", dest="out", required=True)
    a = p.parse_args(argv)

    if a.cmd == "verify":
        ca = x509.load_pem_x509_certificate(open(a.ca, "rb").read())
        crl = None
        crl_path = a.crl or os.path.join(os.path.dirname(a.ca), "crl.pem")
        if a.crl or os.path.exists(crl_path):
            raw = open(crl_path, "rb").read()
            crl = (x509.load_pem_x509_crl(raw) if b"-----BEGIN" in raw
                   else x509.load_der_x509_crl(raw))
        now = None if a.no_time else (a.now_ms if a.now_ms is not None
                                      else int(time.time() * 1000))
        data = open(a.file, "rb").read()
        try:
            d = verify(data, ca, crl, now)
        except Refused as e:
            print("REFUSED: %s" % e)
            return 1
        print("OK serial %d federation %s agencies %d"
              % (d.serial, d.federation, len(d.agencies)))
        return 0

    d = directory_from_spec(a.spec)
    if a.cmd == "sign":
        out = sign_bytes(d.SerializeToString(), a.key, a.cert).SerializeToString()
    else:
        out = CRAFT[a.kind][1](d, a)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
