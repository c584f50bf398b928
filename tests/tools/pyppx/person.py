"""Personal signatures (PROTOCOL.md 3.2), checked from the document alone.

usage: python3 -m pyppx.person FRAME --ca CA.pem --crl CRL.pem
                               [--at UNIX-SECONDS | --history]

FRAME is a serialised ppx.v1.Frame carrying a message.  The agency whose
envelope it is comes from the body's sender_agency (the agency signature
itself is sig.py's business).  Prints one line and exits:

  0  "signed by NAME (FINGERPRINT) of AGENCY"
  1  "bad: CHECK: why", CHECK being the check of 3.2 that failed
  2  "no personal signature"
"""
import argparse
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

import ppx_pb2

from . import sig

LABEL = b"ppx/v1/person\x00"


class Bad(Exception):
    pass


def one(name, oid, what):
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1:
        raise Bad("other role (not a person certificate): not a single " + what)
    return values[0].value


def ca_signed(ca, signature, tbs, hash_algorithm):
    """The CA's signature over TBS bytes (a certificate's or a CRL's)."""
    key = ca.public_key()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, tbs)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, tbs, ec.ECDSA(hash_algorithm))
        else:
            return False
    except Exception:
        return False
    return True


def issued_by(cert, ca):
    return cert.issuer == ca.subject and ca_signed(
        ca, cert.signature, cert.tbs_certificate_bytes,
        cert.signature_hash_algorithm)


def standing(cert, ca, crl, at):
    """Step 4: chain, role, period, CRL (at None: history)."""
    if not issued_by(cert, ca):
        raise Bad("untrusted person certificate: not issued by the CA")
    if one(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME, "OU") != "person":
        raise Bad("other role (not a person certificate)")
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise Bad("other role (not a person certificate): no keyUsage")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not ku.digital_signature or is_ca:
        raise Bad("other role (not a person certificate): key usage")
    if at is None:
        return
    if at > cert.not_valid_after:
        raise Bad("expired person certificate")
    if at < cert.not_valid_before:
        raise Bad("person certificate not yet valid")
    if not ca_signed(ca, crl.signature, crl.tbs_certlist_bytes,
                     crl.signature_hash_algorithm) \
            or crl.next_update is None or at >= crl.next_update:
        raise Bad("no current CRL")
    if crl.get_revoked_certificate_by_serial_number(cert.serial_number):
        raise Bad("revoked person certificate")


def check(frame_bytes, ca, crl, at):
    frame = ppx_pb2.Frame.FromString(frame_bytes)
    env = frame.message
    if not env.HasField("person"):
        return None
    ps = env.person
    der = ps.certificate
    try:                                        # 1: one DER certificate
        cert = x509.load_der_x509_certificate(der)
    except ValueError as e:
        raise Bad("certificate does not decode: %s" % e)
    if cert.public_bytes(serialization.Encoding.DER) != der:
        raise Bad("certificate is not in DER")
    key = cert.public_key()                     # 2: the key's algorithm
    want = sig.SIG_ED25519 if isinstance(key, ed25519.Ed25519PublicKey) \
        else sig.SIG_ECDSA_P256_SHA256 if isinstance(key, ec.EllipticCurvePublicKey) \
        else None
    if ps.algorithm != want:
        raise Bad("algorithm %d is not the key's" % ps.algorithm)
    if not sig.verify_raw(der, ps.algorithm, LABEL + env.signed_body,
                          ps.signature):        # 3
        raise Bad("bad signature")
    standing(cert, ca, crl, at)                 # 4
    body = ppx_pb2.Body.FromString(env.signed_body)
    agency = one(cert.subject, NameOID.ORGANIZATION_NAME, "O")
    name = one(cert.subject, NameOID.COMMON_NAME, "CN")
    if agency != body.sender_agency:            # 5
        raise Bad("other agency: %s, the message is of %s"
                  % (agency, body.sender_agency))
    fpr = sig.fingerprint(der)                  # 6
    if body.sender_person.certificate_fingerprint != fpr:
        raise Bad("not the sender person")
    return "signed by %s (%s) of %s" % (name, fpr.hex(), agency)


def main(argv):
    p = argparse.ArgumentParser(prog="pyppx.person")
    p.add_argument("frame")
    p.add_argument("--ca", required=True)
    p.add_argument("--crl", required=True)
    p.add_argument("--at", type=int)
    p.add_argument("--history", action="store_true")
    a = p.parse_args(argv)
    with open(a.ca, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(a.crl, "rb") as f:
        crl = x509.load_pem_x509_crl(f.read())
    with open(a.frame, "rb") as f:
        frame = f.read()
    at = None if a.history else datetime.datetime.utcfromtimestamp(
        a.at if a.at is not None else datetime.datetime.now().timestamp())
    try:
        said = check(frame, ca, crl, at)
    except Bad as e:
        print("bad: %s" % e)
        return 1
    if said is None:
        print("no personal signature")
        return 2
    print(said)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
