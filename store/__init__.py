"""Records: SQLModel tables, engine/session factories, the order lifecycle and metrics."""
