"""Data exchange with the state's registers: signed feeds, idempotent intake, quarantine and
identity resolution (issue 5; ARCHITECTURE decisions 5 and 6).

Modules, in the order a record travels:
- ``messages``: the versioned message schemas of each source register (published as JSON Schema);
- ``adapters``: one per source register, a message to the facts it states;
- ``signing``: detached JWS over the batch bytes, verified against each source's registered keys;
- ``services``: durable intake (batch and record rows), per-record processing, quarantine, replay;
- ``matching`` (pure) and ``resolution`` (storage): which person a record is about;
- ``feeds``: synthetic feeds with faults and their ground truth, for ``oberih bench match``.
"""
