"""The fx context: official exchange rates (NBG) and what the books need of them."""
