"""The edge of a Saldo installation split into services: ``saldo gateway``."""
