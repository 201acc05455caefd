"""The change feed: what changed about which person, for downstream systems (issue 5, point 5).

Written through a transactional outbox: a row per appended fact, inserted by the same
transaction as the fact, so a change is emitted exactly when its transaction commits.
"""
