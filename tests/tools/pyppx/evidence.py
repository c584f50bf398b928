"""An independent verifier of ppx evidence bundles, written from
docs/EVIDENCE.md (sections 1 to 4), docs/PROTOCOL.md, RFC 9162 and the
C2SP cosignature format alone.

    python3 -m pyppx.evidence BUNDLE --ca CA.crt

Prints what the bundle proves and exits 0, or names the first check that
does not hold (EVIDENCE.md 3) and exits 1; 2 for bad use."""
import argparse
import base64
import datetime
import hashlib
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

import ppx_pb2 as pb

from . import merkle, sig

MAX_BUNDLE = 64 * 1024 * 1024
STORED, DUPLICATE = 1, 2
COSIGNED = 1
ENTRY_SENT, ENTRY_RECEIVED = 1, 2
SIGNED_BODY, SIGNED_RECEIPT, SIGNED_CHECKPOINT = 1, 2, 3


class Fail(Exception):
    pass


def utc(ms):
    return datetime.datetime.utcfromtimestamp(ms / 1000.0)


def iso(ms):
    return utc(ms).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def one(name, oid):
    attrs = name.get_attributes_for_oid(oid)
    return attrs[0].value if len(attrs) == 1 else None


def ca_signed(ca_key, signature, tbs, hash_algorithm):
    """A signature of the CA (Ed25519, or ECDSA with the hash named)."""
    try:
        if isinstance(ca_key, ed25519.Ed25519PublicKey):
            ca_key.verify(signature, tbs)
        elif isinstance(ca_key, ec.EllipticCurvePublicKey):
            ca_key.verify(signature, tbs, ec.ECDSA(hash_algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def issued_by(cert, ca_key):
    """The certificate's signature verifies with the CA's key."""
    return ca_signed(ca_key, cert.signature, cert.tbs_certificate_bytes,
                     cert.signature_hash_algorithm)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def cosigned_text(origin, size, root, timestamp):
    """EVIDENCE.md 4.3: the C2SP cosignature/v1 message."""
    return ("cosignature/v1\ntime %d\n%s/ppx-log\n%d\n%s\n" % (
        timestamp, origin, size, base64.b64encode(root).decode())).encode()


def no_unknown(msg):
    return len(msg.UnknownFields()) == 0


class Verifier:
    def __init__(self, raw, ca_der):
        self.raw = raw
        self.ca_der = ca_der
        self.lines = []
        self.certs = []          # (fingerprint, der, x509)
        self.used = set()

    def say(self, s):
        self.lines.append(s)

    # -- certificates (EVIDENCE.md 3, "the certificate checks")

    def cert_checks(self, what, cert, role, agency, ms):
        if not issued_by(cert, self.ca.public_key()):
            raise Fail("%s: certificate is not issued by the CA" % what)
        o = one(cert.subject, NameOID.ORGANIZATION_NAME)
        ou = one(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
        cn = one(cert.subject, NameOID.COMMON_NAME)
        if o is None or ou is None or cn is None:
            raise Fail("%s: certificate lacks a single O, OU and CN" % what)
        if ou != role:
            raise Fail("%s: a %s certificate, not a %s certificate" % (what, ou, role))
        try:
            ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            raise Fail("%s: certificate has no keyUsage" % what)
        try:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = bc.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not ku.digital_signature or is_ca:
            raise Fail("%s: certificate lacks digitalSignature, or is a CA" % what)
        if agency is not None and o != agency:
            raise Fail("%s: certificate of %s, not of %s" % (what, o, agency))
        t = utc(ms)
        if t < cert.not_valid_before:
            raise Fail("%s: certificate not yet valid at %s" % (what, iso(ms)))
        if t > cert.not_valid_after:
            raise Fail("%s: certificate expired before %s" % (what, iso(ms)))
        rev = self.crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if rev is not None:
            if rev.revocation_date <= t:
                raise Fail("%s: certificate revoked at or before %s" % (what, iso(ms)))
            self.say("  note: certificate of %s revoked after %s" % (o, iso(ms)))
        return o, cn

    def signer(self, what, fp):
        for i, (f, der, cert) in enumerate(self.certs):
            if f == fp:
                self.used.add(i)
                return der, cert
        raise Fail("%s: the signer's certificate is not in the bundle" % what)

    def signature(self, what, fp, algorithm, message, signature, role, agency, ms):
        der, cert = self.signer(what, fp)
        if not sig.verify_raw(der, algorithm, message, signature):
            raise Fail("%s: signature does not verify" % what)
        return self.cert_checks(what, cert, role, agency, ms)

    def envelope(self, what, env, purpose, agency, ms):
        if env.purpose != purpose:
            raise Fail("%s: signed for another purpose" % what)
        if env.HasField("batch"):
            if purpose != SIGNED_BODY:
                raise Fail("%s: a batch signature on purpose %d" % (what, purpose))
            msg, why = sig.batch_message(env.signed_body, env.batch)
            if msg is None:
                raise Fail("%s: %s" % (what, why))
            self.say("  batch-signed: body %d of %d, root %s" % (
                env.batch.leaf_index + 1, env.batch.tree_size, msg[21:].hex()))
            return self.signature(what, env.signer_fingerprint, env.algorithm,
                                  msg, env.signature, "signing", agency, ms)
        msg = b"ppx/v1/" + sig.LABELS[purpose] + b"\x00" + env.signed_body
        return self.signature(what, env.signer_fingerprint, env.algorithm,
                              msg, env.signature, "signing", agency, ms)

    # -- the steps

    def step_bundle(self):
        raw = self.raw
        if len(raw) > MAX_BUNDLE:
            raise Fail("bundle: too large")
        try:
            b = pb.EvidenceBundle.FromString(raw)
        except Exception:
            raise Fail("bundle: does not decode")
        if b.version != 1:
            raise Fail("bundle: version %d" % b.version)
        parts = [b] + list(b.logs)
        for lp in b.logs:
            if lp.HasField("checkpoint"):
                parts.append(lp.checkpoint)
            parts.extend(lp.consistency)
        if not all(no_unknown(m) for m in parts):
            raise Fail("bundle: a field this version does not define")
        if len(raw) < 34 or raw[-34] != 0x7A or raw[-33] != 0x20 or len(b.digest) != 32:
            raise Fail("bundle: the digest is not its last field")
        if not b.logs or (not b.frame and (len(b.logs) != 1 or b.receipts)):
            raise Fail("bundle: wrong number of log proofs or receipts")
        self.b = b

    def step_ca(self):
        own = self.b.ca_certificate
        if self.ca_der is not None and own and own != self.ca_der:
            raise Fail("CA: the bundle's CA certificate is not the CA given")
        der = self.ca_der if self.ca_der is not None else own
        if not der:
            raise Fail("CA: none")
        try:
            self.ca = x509.load_der_x509_certificate(der)
            bc = self.ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        except Exception:
            raise Fail("CA: does not decode, or is not a CA")
        if not bc.ca or not issued_by(self.ca, self.ca.public_key()):
            raise Fail("CA: not a self-signed CA certificate")
        fp = hashlib.sha256(der).hexdigest()
        if self.ca_der is not None:
            self.say("trust anchor: the CA given, SHA-256 %s" % fp)
        else:
            self.say("trust anchor: the bundle's own CA, SHA-256 %s: proves nothing "
                     "until compared with the federation's" % fp)

    def step_crl(self):
        try:
            self.crl = x509.load_der_x509_crl(self.b.crl)
        except Exception:
            raise Fail("CRL: missing, or does not decode")
        if not ca_signed(self.ca.public_key(), self.crl.signature,
                         self.crl.tbs_certlist_bytes,
                         self.crl.signature_hash_algorithm):
            raise Fail("CRL: not signed by the CA")

    def step_certs(self):
        for k, der in enumerate(self.b.certificates):
            try:
                c = x509.load_der_x509_certificate(der)
            except Exception:
                raise Fail("certificate %d: does not decode" % (k + 1))
            self.certs.append((hashlib.sha256(der).digest(), der, c))

    def step_message(self):
        try:
            f = pb.Frame.FromString(self.b.frame)
        except Exception:
            raise Fail("message: the frame does not decode")
        if f.version != 1 or f.WhichOneof("content") != "message":
            raise Fail("message: not a version 1 message frame")
        env = f.message
        try:
            body = pb.Body.FromString(env.signed_body)
        except Exception:
            raise Fail("message: the body does not decode")
        if len(body.message_id) != 16 or not body.HasField("sender_person"):
            raise Fail("message: no id or sender")
        self.envelope("message", env, SIGNED_BODY, body.sender_agency, body.created_ms)
        self.body, self.h = body, hashlib.sha256(env.signed_body).digest()
        self.say("message %s/%s: %s, created %s" % (
            body.sender_agency, body.message_id.hex(), body.WhichOneof("payload"),
            iso(body.created_ms)))
        self.say("  to %s" % ", ".join(body.recipients))
        if env.HasField("person"):
            ps = env.person
            try:
                pc = x509.load_der_x509_certificate(ps.certificate)
            except Exception:
                raise Fail("message: person certificate does not decode")
            msg = b"ppx/v1/person\x00" + env.signed_body
            if not sig.verify_raw(ps.certificate, ps.algorithm, msg, ps.signature):
                raise Fail("message: personal signature: signature does not verify")
            _, cn = self.cert_checks("message: personal signature", pc, "person",
                                     body.sender_agency, body.created_ms)
            if body.sender_person.certificate_fingerprint != sig.fingerprint(ps.certificate):
                raise Fail("message: personal signature: not the sender person")
            self.say("  signed personally by %s" % cn)
        else:
            self.say("  no personal signature")

    def step_receipts(self):
        self.receipts = []
        for k, raw in enumerate(self.b.receipts):
            what = "receipt %d" % (k + 1)
            try:
                f = pb.Frame.FromString(raw)
                assert f.version == 1 and f.WhichOneof("content") == "receipt"
                rb = pb.ReceiptBody.FromString(f.receipt.signed_body)
            except Exception:
                raise Fail("%s: does not decode" % what)
            self.envelope(what, f.receipt, SIGNED_RECEIPT, rb.receiver_agency, rb.time_ms)
            if rb.sender_agency != self.body.sender_agency:
                raise Fail("%s: not addressed to the sender" % what)
            if rb.receiver_agency not in self.body.recipients:
                raise Fail("%s: from no recipient" % what)
            items = [it for it in rb.items if it.body_hash == self.h]
            if not items:
                raise Fail("%s: no item names the message" % what)
            it = items[0]
            self.receipts.append((rb, it))
            self.say("%s: %s %s, seq %d, signed %s" % (
                what, rb.receiver_agency,
                pb.ReceiptStatus.Name(it.status), it.log_seq, iso(rb.time_ms)))

    def log_entry(self, lp, what):
        """EVIDENCE.md 3 step 7.1: the entry bytes, checkpoint and proof."""
        if lp.receipt == 0:
            if lp.item or not lp.entry or not lp.HasField("checkpoint"):
                raise Fail("%s: needs an entry and a checkpoint" % what)
            return what, lp.entry, lp.checkpoint, list(lp.path), lp.seq, None
        if (not self.b.frame or lp.receipt > len(self.receipts) or lp.item == 0
                or lp.entry or lp.HasField("checkpoint") or lp.path):
            raise Fail("%s: malformed proof by receipt" % what)
        what = "receipt %d" % lp.receipt
        rb, mine = self.receipts[lp.receipt - 1]
        if lp.item > len(rb.items):
            raise Fail("%s: no such item" % what)
        it = rb.items[lp.item - 1]
        if (it != mine or it.status not in (STORED, DUPLICATE) or it.log_seq != lp.seq
                or rb.receiver_agency != lp.agency):
            raise Fail("%s: the item is not the message stored there" % what)
        if not rb.HasField("checkpoint") or not it.HasField("inclusion"):
            raise Fail("%s: no proof of recording" % what)
        F = self.b.frame
        entry = it.entry_head + b"\x42" + varint(len(F)) + F + it.entry_tail
        return (what, entry, rb.checkpoint, list(it.inclusion.path),
                it.inclusion.leaf_index, it.inclusion.tree_size)

    def step_log(self, k, lp):
        what, E, cpenv, path, index, size = self.log_entry(lp, "log proof %d" % (k + 1))
        try:
            e = pb.LogEntry.FromString(E)
        except Exception:
            raise Fail("%s: the entry does not decode" % what)
        if e.seq != lp.seq:
            raise Fail("%s: not entry %d" % (what, lp.seq))
        if self.b.frame:
            sender = self.body.sender_agency
            sent = (e.kind == ENTRY_SENT and e.data == self.b.frame and lp.agency == sender)
            recv = (e.kind == ENTRY_RECEIVED and e.data == self.b.frame and
                    e.peer_agency == sender and lp.agency in self.body.recipients)
            if not (sent or recv):
                raise Fail("%s: the entry is not the message's" % what)
        try:
            cp = pb.Checkpoint.FromString(cpenv.signed_body)
        except Exception:
            raise Fail("%s: checkpoint does not decode" % what)
        if len(cp.root_hash) != 32:
            raise Fail("%s: checkpoint does not decode" % what)
        self.envelope(what + ": checkpoint", cpenv, SIGNED_CHECKPOINT, lp.agency, cp.time_ms)
        if cp.agency != lp.agency:
            raise Fail("%s: checkpoint of another agency" % what)
        if size is None:
            size = cp.tree_size
        if (index != lp.seq or size != cp.tree_size or lp.seq >= cp.tree_size
                or len(path) > 64 or any(len(p) != 32 for p in path)):
            raise Fail("%s: inclusion proof is not of that leaf in that tree" % what)
        if not merkle.verify_inclusion(merkle.leaf_hash(E), lp.seq, cp.tree_size,
                                       path, cp.root_hash):
            raise Fail("%s: inclusion proof does not match checkpoint root" % what)
        self.say("log of %s: entry %d, %s at %s, in checkpoint of %d signed %s" % (
            lp.agency, e.seq, pb.EntryKind.Name(e.kind), iso(e.time_ms),
            cp.tree_size, iso(cp.time_ms)))
        if e.reason:
            self.say("  %s: %s" % (pb.RejectReason.Name(e.reason), e.detail))
        used = set()
        for j, raw in enumerate(lp.cosignatures):
            self.cosignature("%s: cosignature %d" % (what, j + 1), lp, cp, raw, used)
        if len(used) != len(lp.consistency):
            raise Fail("%s: a consistency proof serves no cosignature" % what)
        if not lp.cosignatures:
            self.say("  not cosigned in this bundle")

    def cosignature(self, what, lp, cp, raw, used):
        try:
            f = pb.Frame.FromString(raw)
            assert f.version == 1 and f.WhichOneof("content") == "cosignature"
        except Exception:
            raise Fail("%s: does not decode" % what)
        wr = f.cosignature
        if (wr.result != COSIGNED or wr.log_agency != lp.agency
                or wr.witness_agency == lp.agency or len(wr.root_hash) != 32
                or wr.tree_size < cp.tree_size):
            raise Fail("%s: not a cosignature of this log's checkpoint" % what)
        if wr.tree_size == cp.tree_size:
            if wr.root_hash != cp.root_hash:
                raise Fail("%s: cosigns another root" % what)
        else:
            ok = False
            for i, c in enumerate(lp.consistency):
                if c.old_size == cp.tree_size and c.new_size == wr.tree_size:
                    used.add(i)
                    ok = (len(c.path) <= 64 and all(len(p) == 32 for p in c.path) and
                          merkle.verify_consistency(c.old_size, c.new_size, c.path,
                                                    cp.root_hash, wr.root_hash))
                    break
            if not ok:
                raise Fail("%s: no consistency proof holds" % what)
        text = cosigned_text(wr.log_agency, wr.tree_size, wr.root_hash, wr.timestamp)
        self.signature(what, wr.signer_fingerprint, wr.algorithm, text, wr.signature,
                       "signing", wr.witness_agency, wr.timestamp * 1000)
        self.say("  cosigned by %s at %s (size %d)" % (
            wr.witness_agency, iso(wr.timestamp * 1000), wr.tree_size))

    def run(self):
        self.step_bundle()
        self.step_ca()
        self.step_crl()
        self.step_certs()
        if self.b.frame:
            self.step_message()
            self.step_receipts()
        for k, lp in enumerate(self.b.logs):
            self.step_log(k, lp)
        for k in range(len(self.certs)):
            if k not in self.used:
                raise Fail("certificate %d: used by no signature" % (k + 1))
        if hashlib.sha256(self.raw[:-34]).digest() != self.b.digest:
            raise Fail("bundle: digest does not match its bytes")


def main(argv):
    ap = argparse.ArgumentParser(prog="pyppx.evidence")
    ap.add_argument("bundle")
    ap.add_argument("--ca", help="the verifier's CA certificate (PEM or DER)")
    a = ap.parse_args(argv)
    raw = open(a.bundle, "rb").read()
    ca = None
    if a.ca:
        data = open(a.ca, "rb").read()
        try:
            c = x509.load_pem_x509_certificate(data)
        except ValueError:
            c = x509.load_der_x509_certificate(data)
        from cryptography.hazmat.primitives.serialization import Encoding
        ca = c.public_bytes(Encoding.DER)
    v = Verifier(raw, ca)
    try:
        v.run()
    except Fail as f:
        print("\n".join(v.lines))
        print("%s: DOES NOT VERIFY: %s" % (a.bundle, f))
        return 1
    print("\n".join(v.lines))
    print("%s: VERIFIED" % a.bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
