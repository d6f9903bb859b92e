"""Business rules. Plain Python: a database session and plain values in, plain values out."""
