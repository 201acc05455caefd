"""Storage: one schema on two engines (SQLite embedded default, PostgreSQL in production)."""
