"""``python -m saldo`` is the ``saldo`` command."""

from saldo.cli import main

main()
