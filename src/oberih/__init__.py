"""oberih: the register of conscripts, persons liable for military service and reservists."""

__version__ = "0.1.0"
