"""What every context shares: errors, identifiers, money, clock. No I/O, no frameworks."""
