"""Tamper-evident audit log: RFC 6962 Merkle tree over audit entries, signed checkpoints.

Pure code, no storage: ``merkle`` (hashing, proofs, verification, compact range),
``subtrees`` (proofs for aligned batches of entries), ``checkpoints`` (signed tree heads in the
C2SP tlog-checkpoint / signed-note format, ARCHITECTURE decision 7).
"""
