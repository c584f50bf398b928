"""An independent verifier of restores in a ppx log, written from
docs/PROTOCOL.md (sections 3, 6, 6.1, 6.2 and 14) and proto/ppx.proto
alone.

    python3 -m pyppx.restore verify --log DIR --agency NAME --pki PKI
                                    [--data SEQ=FILE]... [--peer-log AGENCY=DIR]...
                                    [--replaced-log DIR]...
    python3 -m pyppx.restore craft  --log DIR --agency NAME --pki PKI --out DIR [--seq S]
    python3 -m pyppx.restore craft-record --log DIR --agency NAME --pki PKI --out DIR [--seq S]

The log is read as section 6.2 gives it: the LMDB database `log`, keys
the big-endian seq, values the entries' bytes (through mdb_dump).
Certificates are those of PKI/agencies/*/ (O = agency, OU = role).

verify checks the hash chain (C0, C1) and every restore in the log,
naming the first rule broken:

  R1  the entry's data is a Frame{restore} of version 1, no unknown
      fields in it or its Envelope (section 2)
  R2  the Envelope: purpose SIGNED_RESTORE, no batch or person, signed
      (label "restore") by a signing certificate of the agency, issued
      by the CA (sections 1, 3)
  R3  it holds a RestoreNotice whose agency is that agency
  R4  its checkpoint: SIGNED_CHECKPOINT by the same, naming it, a
      32-byte root
  R5  copied_ms <= restored_ms
  R6  (ENTRY_RESTORED) tree_size is the entry's seq and root_hash the
      RFC 6962 root of the entries before it, computed here
  R7  (ENTRY_RESTORED) copied_ms is the time_ms of the entry before it
  R8  replaced_root empty or 32 bytes, and 32 bytes if replaced_size > 0
  R9  each --replaced-log (a log `ppx restore` put aside) is the one some
      notice says it replaced: its size, its root, the copy a prefix of it
  P1-P3  (ENTRY_PARTNER_RESTORED) the data is a PartnerRestoreRecord whose
      notice passes R1-R5 for the peer; its restored_ms newer than the
      peer's notice taken before; given the peer's log (--peer-log), the
      notice is the data of one of its ENTRY_RESTORED
  H1, H2  `held`, if any, is a checkpoint signed by the peer; given its
      log, one no larger than the notice's is a prefix of the restored log
  K0-K3  `resent` and `related_ids` are the messages this log sent whose
      newest receipt from the peer (signed by it) places them at
      log_seq >= tree_size, and the detail is 6.1's

--data SEQ=FILE judges FILE's bytes as the data of the entry at SEQ (an
ENTRY_RESTORED or ENTRY_PARTNER_RESTORED) instead of the entry's own (the
chain is then not checked past SEQ).  Prints one OK line per restore and
exits 0, or "REFUSED: RULE ..." and exits 1; 2 if the log cannot be read.

craft writes, from the log's newest ENTRY_RESTORED (or the one at S),
notices that each break one rule, signed again with the agencies' keys from PKI so that
only that rule breaks: NAME.frame, one per variant.  craft-record does
the same for the newest ENTRY_PARTNER_RESTORED of a partner's log
(NAME.record): resent one more, a held checkpoint's signature flipped,
the notice inside with its signature flipped, the held checkpoint's root
off by one bit (signed again).
"""
import argparse
import glob
import hashlib
import os
import subprocess
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

import ppx_pb2 as pb

from . import merkle, sig
from .receipts import log_entries

ENTRY_RECEIPT_RECEIVED = 4
ENTRY_SENT = 1
ENTRY_RESTORED, ENTRY_PARTNER_RESTORED = 22, 23
SIGNED_CHECKPOINT, SIGNED_RESTORE = 3, 6
STORED, DUPLICATE = 1, 2
LABELS = dict(sig.LABELS)
LABELS[SIGNED_RESTORE] = b"restore"


class Bad(Exception):
    pass


# --- certificates ---------------------------------------------------------

def issued_by_ca(cert, ca):
    """Section 1: the certificate chains to the federation CA (one level,
    as ppx-pki issues them)."""
    if cert.issuer != ca.subject:
        return False
    key = ca.public_key()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
        else:
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       padding.PKCS1v15(), cert.signature_hash_algorithm)
    except InvalidSignature:
        return False
    return True


def load_pki(pki):
    """fingerprint -> (agency, role, DER) of the certificates under
    PKI/agencies that the CA (PKI/ca/ca.crt) issued; agency -> its signing
    key's path and certificate."""
    certs, keys = {}, {}
    with open(os.path.join(pki, "ca", "ca.crt"), "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    for path in glob.glob(os.path.join(pki, "agencies", "*", "*.crt")):
        with open(path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        if not issued_by_ca(cert, ca):
            continue
        der = cert.public_bytes(Encoding.DER)
        o = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        ou = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        if len(o) == 1 and len(ou) == 1:
            certs[sig.fingerprint(der)] = (o[0].value, ou[0].value, der)
            key = path[:-4] + ".key"
            if ou[0].value == "signing" and os.path.exists(key):
                keys[o[0].value] = (key, der)
    return certs, keys


def signed_by(env, purpose, agency, certs, what):
    """Section 3 and 3.1: the envelope is signed for `purpose` (its label)
    by a signing certificate of `agency`."""
    if env.purpose != purpose:
        raise Bad("%s: purpose %d, not %d" % (what, env.purpose, purpose))
    if env.HasField("batch") or env.HasField("person"):
        raise Bad("%s: carries batch or person (section 3)" % what)
    c = certs.get(env.signer_fingerprint)
    if not c:
        raise Bad("%s: signer fingerprint not a known certificate" % what)
    if c[0] != agency or c[1] != "signing":
        raise Bad("%s: signed by %s's %s certificate, not %s's signing certificate"
                  % (what, c[0], c[1], agency))
    msg = b"ppx/v1/" + LABELS[purpose] + b"\x00" + env.signed_body
    if not sig.verify_raw(c[2], env.algorithm, msg, env.signature):
        raise Bad("%s: signature does not verify (label %r)"
                  % (what, LABELS[purpose].decode()))


# --- the tree -------------------------------------------------------------

def mth(leaves):
    """RFC 6962 2.1: the Merkle tree hash of a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


# --- the notice -----------------------------------------------------------

def judge_notice(data, agency, certs, where):
    """Rules R1 to R5 (PROTOCOL.md 14.1 table, 14.2 steps 1, 3, 4, 5 less
    the clock): returns (RestoreNotice, Checkpoint)."""
    try:
        frame = pb.Frame.FromString(data)
    except Exception as e:
        raise Bad("R1 %s: not a Frame (%s)" % (where, e))
    if frame.WhichOneof("content") != "restore":
        raise Bad("R1 %s: the frame is not Frame{restore} (field 9) but %s"
                  % (where, frame.WhichOneof("content")))
    if frame.version != 1:
        raise Bad("R1 %s: frame version %d" % (where, frame.version))
    env = frame.restore
    if len(frame.UnknownFields()) or len(env.UnknownFields()):
        raise Bad("R1 %s: unknown fields in the Frame or its Envelope (section 2)" % where)
    try:
        signed_by(env, SIGNED_RESTORE, agency, certs, where + " notice")
    except Bad as e:
        raise Bad("R2 " + str(e))
    try:
        notice = pb.RestoreNotice.FromString(env.signed_body)
    except Exception as e:
        raise Bad("R3 %s: signed_body is not a RestoreNotice (%s)" % (where, e))
    if notice.agency != agency:
        raise Bad("R3 %s: RestoreNotice.agency %r, not %r" % (where, notice.agency, agency))
    if not notice.HasField("checkpoint"):
        raise Bad("R4 %s: no checkpoint" % where)
    try:
        signed_by(notice.checkpoint, SIGNED_CHECKPOINT, agency, certs, where + " checkpoint")
        cp = pb.Checkpoint.FromString(notice.checkpoint.signed_body)
    except Bad as e:
        raise Bad("R4 " + str(e))
    except Exception as e:
        raise Bad("R4 %s: checkpoint is not a Checkpoint (%s)" % (where, e))
    if cp.agency != agency:
        raise Bad("R4 %s: checkpoint of %r, not %r" % (where, cp.agency, agency))
    if len(cp.root_hash) != 32:
        raise Bad("R4 %s: checkpoint root of %d bytes" % (where, len(cp.root_hash)))
    if notice.copied_ms > notice.restored_ms:
        raise Bad("R5 %s: copied_ms %d later than restored_ms %d"
                  % (where, notice.copied_ms, notice.restored_ms))
    # 14.1: "0 and empty if it could not be read"; a log that was read
    # has a 32-byte root (the document does not say what an empty one has).
    if len(notice.replaced_root) not in (0, 32) or \
            (notice.replaced_size and len(notice.replaced_root) != 32):
        raise Bad("R8 %s: replaced_size %d with a replaced_root of %d bytes"
                  % (where, notice.replaced_size, len(notice.replaced_root)))
    return notice, cp


def check_restored(entries, leaves, s, data, agency, certs):
    """ENTRY_RESTORED at seq s: the notice, and rules R6 and R7 against
    this log, whose entries before s are the copy (6.1: "always the first
    entry after the copy")."""
    e = entries[s]
    if e.peer_agency or e.message_id:
        raise Bad("R0 seq %d: ENTRY_RESTORED with peer_agency or message_id" % s)
    notice, cp = judge_notice(data, agency, certs, "seq %d" % s)
    if cp.tree_size != s:
        raise Bad("R6 seq %d: checkpoint tree_size %d, but the copy before it holds %d entries"
                  % (s, cp.tree_size, s))
    root = mth(leaves[:s])
    if cp.root_hash != root:
        raise Bad("R6 seq %d: checkpoint root %s is not the root of the %d entries before it (%s)"
                  % (s, cp.root_hash.hex(), s, root.hex()))
    if s > 0 and notice.copied_ms != entries[s - 1].time_ms:
        raise Bad("R7 seq %d: copied_ms %d is not the time_ms %d of the copy's newest entry"
                  % (s, notice.copied_ms, entries[s - 1].time_ms))
    return notice, cp


def check_partner_restored(entries, s, data, agency, certs, taken, peers):
    """ENTRY_PARTNER_RESTORED at seq s of `agency`'s log: the notice (R1
    to R5, of its peer), the held checkpoint (H1), resent (K1 to K3)."""
    e = entries[s]
    peer = e.peer_agency
    try:
        rec = pb.PartnerRestoreRecord.FromString(data)
    except Exception as ex:
        raise Bad("P1 seq %d: data is not a PartnerRestoreRecord (%s)" % (s, ex))
    notice, cp = judge_notice(rec.notice, peer, certs, "seq %d (of %s)" % (s, peer))
    if peer in taken and notice.restored_ms <= taken[peer]:
        raise Bad("P2 seq %d: restored_ms %d not newer than the notice taken before (%d)"
                  % (s, notice.restored_ms, taken[peer]))
    taken[peer] = notice.restored_ms
    if peer in peers and rec.notice not in peers[peer][0]:
        raise Bad("P3 seq %d: the notice is not the data of any ENTRY_RESTORED in %s's log"
                  % (s, peer))
    held = None
    if rec.HasField("held"):
        try:
            signed_by(rec.held, SIGNED_CHECKPOINT, peer, certs, "seq %d held" % s)
            held = pb.Checkpoint.FromString(rec.held.signed_body)
        except Bad as ex:
            raise Bad("H1 " + str(ex))
        if held.agency != peer or len(held.root_hash) != 32:
            raise Bad("H1 seq %d: held checkpoint of %r with a %d-byte root"
                      % (s, held.agency, len(held.root_hash)))
        peer_log = peers.get(peer)
        if peer_log and held.tree_size <= cp.tree_size:
            # 14.2: "A held checkpoint no larger is kept (the restored log
            # must extend it, as any log must)": it is a prefix of the copy.
            if held.tree_size > len(peer_log[1]) or \
                    mth(peer_log[1][:held.tree_size]) != held.root_hash:
                raise Bad("H2 seq %d: held checkpoint of %d entries is no larger than the "
                          "copy, but the restored log of %s does not extend it"
                          % (s, held.tree_size, peer))
    # 14.2 Recovery: messages this log sent to peer, receipted by peer
    # (ENTRY_RECEIPT_RECEIVED from it, before this entry) with an item
    # STORED or DUPLICATE at log_seq >= tree_size.  A message queued again
    # by an earlier restore has more than one receipt: its newest one says
    # where the peer's log holds it now (the document says "its receipt").
    sent = set()
    newest = {}
    for t in range(s):
        x = entries[t]
        if x.kind == ENTRY_SENT and x.message_id:
            sent.add(bytes(x.message_id))
        elif x.kind == ENTRY_RECEIPT_RECEIVED and x.peer_agency == peer:
            try:
                f = pb.Frame.FromString(x.data)
                signed_by(f.receipt, 2, peer, certs, "seq %d receipt" % t)
                rb = pb.ReceiptBody.FromString(f.receipt.signed_body)
            except Bad as ex:
                raise Bad("K0 " + str(ex))
            except Exception as ex:
                raise Bad("K0 seq %d: the receipt does not decode (%s)" % (t, ex))
            for it in rb.items:
                if it.status in (STORED, DUPLICATE):
                    newest[bytes(it.message_id)] = it.log_seq
    want = set(m for m, q in newest.items() if q >= cp.tree_size and m in sent)
    got = [bytes(i) for i in e.related_ids]
    if rec.resent != len(want):
        raise Bad("K1 seq %d: resent %d, but this log holds %d messages %s receipted at "
                  "log_seq >= %d" % (s, rec.resent, len(want), peer, cp.tree_size))
    if len(set(got)) != len(got) or set(got) != want:
        raise Bad("K2 seq %d: related_ids (%d) are not the messages %s receipted at "
                  "log_seq >= %d (%d)" % (s, len(got), peer, cp.tree_size, len(want)))
    expect = "restored to %d entries (held %d); %d messages queued again" % (
        cp.tree_size, held.tree_size if held else 0, rec.resent)
    if e.detail != expect:
        raise Bad("K3 seq %d: detail %r, not %r" % (s, e.detail, expect))
    return notice, cp, held, rec


def verify(args):
    certs, _ = load_pki(args.pki)
    subst = {}
    for n in args.data or []:
        k, _, path = n.partition("=")
        with open(path, "rb") as f:
            subst[int(k)] = f.read()
    raw = [b for _, b in log_entries(args.log)]
    entries = []
    for i, b in enumerate(raw):
        try:
            entries.append(pb.LogEntry.FromString(b))
        except Exception as ex:
            raise Bad("C0 seq %d: not a LogEntry (%s)" % (i, ex))
    leaves = [merkle.leaf_hash(b) for b in raw]
    stop = min(subst) if subst else len(raw)
    prev = bytes(32)
    for i, e in enumerate(entries):
        if e.seq != i:
            raise Bad("C1 seq %d: entry says seq %d" % (i, e.seq))
        if i <= stop and e.prev_hash != prev:
            raise Bad("C1 seq %d: prev_hash is not the leaf hash of entry %d" % (i, i - 1))
        prev = leaves[i]
    peers = {}
    for pl in args.peer_log or []:
        name, _, d = pl.partition("=")
        praw = [b for _, b in log_entries(d)]
        notices = set(pb.LogEntry.FromString(b).data for b in praw
                      if pb.LogEntry.FromString(b).kind == ENTRY_RESTORED)
        peers[name] = (notices, [merkle.leaf_hash(b) for b in praw])
    replaced = []
    for d in args.replaced_log or []:
        replaced.append((d, [merkle.leaf_hash(b) for _, b in log_entries(d)]))
    taken = {}
    n = 0
    for i, e in enumerate(entries):
        if e.kind == ENTRY_RESTORED:
            notice, cp = check_restored(entries, leaves, i, subst.get(i, e.data),
                                        args.agency, certs)
            for d, rl in replaced:
                if len(rl) != notice.replaced_size:
                    continue
                if mth(rl) != notice.replaced_root:
                    raise Bad("R9 seq %d: replaced_root is not the root of %s" % (i, d))
                if rl[:i] != leaves[:i]:
                    raise Bad("R9 seq %d: the copy is not a prefix of the replaced log %s"
                              % (i, d))
                replaced.remove((d, rl))
                break
            print("OK seq %d restored: %d entries, root %s, copied_ms %d, restored_ms %d, "
                  "replaced %d, reason %r" % (i, cp.tree_size, cp.root_hash.hex()[:16],
                                              notice.copied_ms, notice.restored_ms,
                                              notice.replaced_size, notice.reason))
            n += 1
        elif e.kind == ENTRY_PARTNER_RESTORED:
            notice, cp, held, rec = check_partner_restored(entries, i, subst.get(i, e.data),
                                                            args.agency, certs, taken, peers)
            print("OK seq %d partner %s restored: %d entries, held %s, resent %d"
                  % (i, e.peer_agency, cp.tree_size,
                     held.tree_size if held else "none", rec.resent))
            n += 1
    if replaced:
        raise Bad("R9 no ENTRY_RESTORED says it replaced the %d entries of %s"
                  % (len(replaced[0][1]), replaced[0][0]))
    print("OK %d entries, %d restores" % (len(entries), n))


# --- crafting -------------------------------------------------------------

def sign(keys, agency, purpose, body):
    path, der = keys[agency]
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    msg = b"ppx/v1/" + LABELS[purpose] + b"\x00" + body
    env = pb.Envelope(signed_body=body, signer_fingerprint=sig.fingerprint(der),
                      purpose=purpose)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        env.algorithm, env.signature = sig.SIG_ED25519, key.sign(msg)
    else:
        env.algorithm = sig.SIG_ECDSA_P256_SHA256
        env.signature = key.sign(msg, ec.ECDSA(hashes.SHA256()))
    return env


def craft(args):
    certs, keys = load_pki(args.pki)
    raw = [b for _, b in log_entries(args.log)]
    entries = [pb.LogEntry.FromString(b) for b in raw]
    leaves = [merkle.leaf_hash(b) for b in raw]
    seqs = [i for i, e in enumerate(entries) if e.kind == ENTRY_RESTORED]
    if not seqs or (args.seq is not None and args.seq not in seqs):
        raise Bad("no such ENTRY_RESTORED in the log")
    s = seqs[-1] if args.seq is None else args.seq
    frame = pb.Frame.FromString(entries[s].data)
    notice = pb.RestoreNotice.FromString(frame.restore.signed_body)
    cp = pb.Checkpoint.FromString(notice.checkpoint.signed_body)
    a = args.agency
    other = sorted(k for k in keys if k != a)[0]

    def out(name, n, cpb=None, signer=a, purpose=SIGNED_RESTORE, cp_signer=a):
        n2 = pb.RestoreNotice()
        n2.CopyFrom(n)
        if cpb is not None:
            n2.checkpoint.CopyFrom(sign(keys, cp_signer, SIGNED_CHECKPOINT,
                                        cpb.SerializeToString()))
        env = sign(keys, signer, purpose, n2.SerializeToString())
        write(name, pb.Frame(version=1, restore=env).SerializeToString())

    def write(name, data):
        with open(os.path.join(args.out, name + ".frame"), "wb") as f:
            f.write(data)

    def cpv(**kw):
        c = pb.Checkpoint()
        c.CopyFrom(cp)
        for k, v in kw.items():
            setattr(c, k, v)
        return c

    f2 = pb.Frame()
    f2.CopyFrom(frame)
    b = bytearray(f2.restore.signature)
    b[len(b) // 2] ^= 1
    f2.restore.signature = bytes(b)
    write("sig-flipped", f2.SerializeToString())
    write("same", entries[s].data)
    write("unknown-field", entries[s].data + b"\x50\x01")   # Frame field 10, varint 1
    root = bytearray(cp.root_hash)
    root[0] ^= 1
    out("root-bit", notice, cpv(root_hash=bytes(root)))
    out("size-plus", notice, cpv(tree_size=s + 1, root_hash=mth(leaves[:s + 1])))
    out("size-minus", notice, cpv(tree_size=s - 1, root_hash=mth(leaves[:s - 1])))
    n2 = pb.RestoreNotice()
    n2.CopyFrom(notice)
    n2.agency = other
    out("agency-field", n2)
    out("agency-signer", notice, signer=other)
    out("agency-checkpoint", notice, cpv(agency=other), cp_signer=other)
    out("label-checkpoint", notice, purpose=SIGNED_CHECKPOINT)
    # Signed with label "checkpoint" but claiming purpose SIGNED_RESTORE.
    env = sign(keys, a, SIGNED_CHECKPOINT, notice.SerializeToString())
    env.purpose = SIGNED_RESTORE
    write("label-wrong", pb.Frame(version=1, restore=env).SerializeToString())
    n2 = pb.RestoreNotice()
    n2.CopyFrom(notice)
    n2.copied_ms = notice.restored_ms + 1
    out("copied-after", n2)
    n2.copied_ms = notice.copied_ms - 1
    out("copied-not-newest", n2)
    print("crafted from seq %d: %d entries" % (s, cp.tree_size))


def craft_record(args):
    raw = [b for _, b in log_entries(args.log)]
    entries = [pb.LogEntry.FromString(b) for b in raw]
    seqs = [i for i, e in enumerate(entries) if e.kind == ENTRY_PARTNER_RESTORED]
    if not seqs or (args.seq is not None and args.seq not in seqs):
        raise Bad("no such ENTRY_PARTNER_RESTORED in the log")
    s = seqs[-1] if args.seq is None else args.seq
    rec = pb.PartnerRestoreRecord.FromString(entries[s].data)

    def write(name, r):
        with open(os.path.join(args.out, name + ".record"), "wb") as f:
            f.write(r.SerializeToString())

    def flipped(b):
        b = bytearray(b)
        b[len(b) // 2] ^= 1
        return bytes(b)

    r = pb.PartnerRestoreRecord()
    r.CopyFrom(rec)
    r.resent += 1
    write("resent-plus", r)
    r.CopyFrom(rec)
    if r.HasField("held"):
        r.held.signature = flipped(r.held.signature)
        write("held-sig", r)
    if rec.HasField("held"):
        # The held checkpoint with its root off by one bit, signed again
        # with its agency's key: only H2 can see it.
        _, keys = load_pki(args.pki)
        h = pb.Checkpoint.FromString(rec.held.signed_body)
        root = bytearray(h.root_hash)
        root[0] ^= 1
        h.root_hash = bytes(root)
        r.CopyFrom(rec)
        r.held.CopyFrom(sign(keys, entries[s].peer_agency, SIGNED_CHECKPOINT,
                             h.SerializeToString()))
        write("held-root-bit", r)
    r.CopyFrom(rec)
    f = pb.Frame.FromString(rec.notice)
    f.restore.signature = flipped(f.restore.signature)
    r.notice = f.SerializeToString()
    write("notice-sig", r)
    print("crafted from seq %d: resent %d, held %s" % (
        s, rec.resent, "yes" if rec.HasField("held") else "none"))


def main():
    ap = argparse.ArgumentParser(prog="pyppx.restore")
    ap.add_argument("mode", choices=["verify", "craft", "craft-record"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--agency", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--data", action="append")
    ap.add_argument("--peer-log", action="append")
    ap.add_argument("--replaced-log", action="append")
    ap.add_argument("--out")
    ap.add_argument("--seq", type=int, help="craft from this entry, not the newest")
    args = ap.parse_args()
    try:
        if args.mode == "verify":
            verify(args)
        else:
            if not args.out:
                ap.error("craft needs --out DIR")
            (craft if args.mode == "craft" else craft_record)(args)
    except Bad as e:
        print("REFUSED: %s" % e)
        return 1
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        print("pyppx.restore: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
