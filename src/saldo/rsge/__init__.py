"""The Revenue Service (rs.ge) exchange: e-invoices, waybills, look-ups (issue 15)."""
