"""The collection: token -> records -> manifest -> uploaded media (Dagster code of that domain)."""
