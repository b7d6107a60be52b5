"""Tax: VAT codes and the monthly VAT return, the registration monitor, the tax calendar."""
