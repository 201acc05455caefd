"""Persons: facts, their fold into state, storage and search."""
