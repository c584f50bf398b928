"""Check every receipt a sender logged for its proof of recording, as
docs/PROTOCOL.md section 5.3 states it, from the sender's log alone.

    python3 -m pyppx.receipts --log DIR --us AGENCY --certs DIR [--mutate]

The log is read with `mdb_dump -s log DIR` (PROTOCOL.md 6.2: database
`log`, key the 8-byte big-endian seq, value the serialised LogEntry).  For
each ENTRY_RECEIPT_RECEIVED entry, its receipt frame is checked: the
receipt's signature, then for every STORED or DUPLICATE item that names a
message of ours (an ENTRY_SENT entry with that message id):

  * ReceiptBody.checkpoint is a Checkpoint envelope, purpose
    SIGNED_CHECKPOINT, signed by the signing certificate of the receipt's
    receiver_agency (certificate found by fingerprint among --certs, its
    O and OU=signing), and names that agency;
  * inclusion.tree_size == the checkpoint's tree_size,
    inclusion.leaf_index == log_seq < tree_size;
  * entry = entry_head || 0x42 || varint(len(F)) || F || entry_tail, F our
    ENTRY_SENT frame, decodes as a LogEntry of kind ENTRY_RECEIVED with
    seq == log_seq, peer_agency == us, message_id == the item's, data == F;
  * SHA-256(0x00 || entry) verifies against root_hash by RFC 9162 2.1.3.2.

--mutate changes one byte of each item's proof (the entry head, the tail
or a path hash, in turn) before checking: every such item must then fail.

Prints "receipts R checkpoints C items I verified V failed F" (C: the
receipts carrying a validly signed checkpoint) (and one line per failure
on stderr); exits 0 only if F == 0 (without --mutate) or V == 0 (with).
"""
import argparse
import glob
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

import ppx_pb2 as pb

from . import merkle, sig

SIGNED_RECEIPT = 2
SIGNED_CHECKPOINT = 3


def log_entries(log_dir):
    """(seq, entry bytes) of every entry, from mdb_dump's hex output."""
    out = subprocess.run(["mdb_dump", "-s", "log", log_dir], check=True,
                         capture_output=True, text=True).stdout
    lines = out.splitlines()
    body = lines[lines.index("HEADER=END") + 1:]
    pairs = [l[1:] for l in body if l.startswith(" ")]
    for k, v in zip(pairs[0::2], pairs[1::2]):
        yield int(k, 16), bytes.fromhex(v)


def load_certs(certs_dir):
    """fingerprint -> (agency, role, DER) of every certificate given."""
    known = {}
    for path in glob.glob(certs_dir + "/*.pem") + glob.glob(certs_dir + "/*.crt"):
        with open(path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        der = cert.public_bytes(Encoding.DER)
        o = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        ou = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        if len(o) == 1 and len(ou) == 1:
            known[sig.fingerprint(der)] = (o[0].value, ou[0].value, der)
    return known


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


class Bad(Exception):
    pass


def verified(env, purpose, agency, certs):
    """The envelope is signed for `purpose` by agency's signing cert."""
    c = certs.get(env.signer_fingerprint)
    if env.purpose != purpose or not c or c[0] != agency or c[1] != "signing":
        raise Bad("not signed by %s's signing certificate for purpose %d"
                  % (agency, purpose))
    if not sig.verify_ppx(c[2], env.algorithm, purpose, env.signed_body,
                          env.signature):
        raise Bad("signature does not verify")


def check_item(r, cp, item, frame, us):
    inc = item.inclusion
    if not item.HasField("inclusion"):
        raise Bad("no inclusion proof")
    if inc.tree_size != cp.tree_size:
        raise Bad("inclusion tree size %d, checkpoint %d"
                  % (inc.tree_size, cp.tree_size))
    if inc.leaf_index != item.log_seq or item.log_seq >= cp.tree_size:
        raise Bad("leaf index %d for log_seq %d in a tree of %d"
                  % (inc.leaf_index, item.log_seq, cp.tree_size))
    entry = (item.entry_head + b"\x42" + varint(len(frame)) + frame +
             item.entry_tail)
    e = pb.LogEntry()
    try:
        e.ParseFromString(entry)
    except Exception as x:
        raise Bad("spliced entry does not decode: %s" % x)
    if (e.kind != pb.ENTRY_RECEIVED or e.seq != item.log_seq or
            e.peer_agency != us or e.message_id != item.message_id or
            e.data != frame):
        raise Bad("spliced entry is not our message received at %d"
                  % item.log_seq)
    if any(len(p) != 32 for p in inc.path):
        raise Bad("a path hash is not 32 bytes")
    if not merkle.verify_inclusion(merkle.leaf_hash(entry), item.log_seq,
                                   cp.tree_size, list(inc.path),
                                   cp.root_hash):
        raise Bad("inclusion proof does not verify against the root")


def mutate(item, n):
    """Change one byte of the item's proof, which part by n."""
    def flip(b):
        return bytes([b[0] ^ 1]) + b[1:]
    part = n % 3
    if part == 0 and item.entry_head:
        item.entry_head = flip(item.entry_head)
    elif part == 1 and item.entry_tail:
        item.entry_tail = flip(item.entry_tail)
    elif item.inclusion.path:
        item.inclusion.path[0] = flip(item.inclusion.path[0])
    else:
        item.entry_head = flip(item.entry_head)


def check_receipt(data, sent, us, certs, do_mutate, tally):
    frame = pb.Frame()
    frame.ParseFromString(data)
    env = frame.receipt
    r = pb.ReceiptBody()
    r.ParseFromString(env.signed_body)
    verified(env, SIGNED_RECEIPT, r.receiver_agency, certs)
    cp = None
    if r.HasField("checkpoint"):
        verified(r.checkpoint, SIGNED_CHECKPOINT, r.receiver_agency, certs)
        cp = pb.Checkpoint()
        cp.ParseFromString(r.checkpoint.signed_body)
        if cp.agency != r.receiver_agency or len(cp.root_hash) != 32:
            cp = None
        else:
            tally["checkpoints"] += 1
    for item in r.items:
        if item.status not in (pb.STORED, pb.DUPLICATE):
            continue
        if item.message_id not in sent:
            continue
        tally["items"] += 1
        if do_mutate:
            mutate(item, tally["items"])
        try:
            if cp is None:
                raise Bad("no valid checkpoint of %s" % r.receiver_agency)
            check_item(r, cp, item, sent[item.message_id], us)
            tally["verified"] += 1
        except Bad as x:
            tally["failed"] += 1
            print("receipt item %s from %s: %s" % (item.message_id.hex(),
                  r.receiver_agency, x), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--us", required=True)
    ap.add_argument("--certs", required=True)
    ap.add_argument("--mutate", action="store_true")
    a = ap.parse_args()
    certs = load_certs(a.certs)
    sent, receipts = {}, []
    for _, raw in log_entries(a.log):
        e = pb.LogEntry()
        e.ParseFromString(raw)
        if e.kind == pb.ENTRY_SENT:
            sent[e.message_id] = e.data
        elif e.kind == pb.ENTRY_RECEIPT_RECEIVED:
            receipts.append(e.data)
    tally = {"checkpoints": 0, "items": 0, "verified": 0, "failed": 0}
    for data in receipts:
        try:
            check_receipt(data, sent, a.us, certs, a.mutate, tally)
        except Bad as x:
            tally["failed"] += 1
            print("receipt: %s" % x, file=sys.stderr)
    print("receipts %d checkpoints %d items %d verified %d failed %d" % (
        len(receipts), tally["checkpoints"], tally["items"],
        tally["verified"], tally["failed"]))
    if a.mutate:
        return 0 if tally["verified"] == 0 and tally["failed"] > 0 else 1
    return 0 if tally["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
