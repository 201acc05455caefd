"""The HTTP service: FastAPI app factory, error mapping, middleware and shared dependencies."""
