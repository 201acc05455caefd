"""Tamper-evident audit log: RFC 6962 Merkle tree over audit events, signed checkpoints.

Pure code, no storage: ``merkle`` (hashing, proofs, verification, compact range),
``subtrees`` (proofs for aligned batches of entries), ``checkpoints`` (signed tree heads in the
C2SP tlog-checkpoint / signed-note format, ARCHITECTURE decision 7), ``events`` (the audit event
and its canonical bytes).

Storage and operations: ``models`` (tables), ``services`` (record an event in the caller's
transaction, sign checkpoints, serve proofs, "who saw my data"), ``signing`` (the checkpoint
key and ``AuditSettings``), ``verification`` (recompute the tree and name tampering),
``schemas`` + ``views`` (HTTP), ``tasks`` (signing checkpoints when due), ``cli``
(``oberih audit verify | checkpoint | key``).
"""
