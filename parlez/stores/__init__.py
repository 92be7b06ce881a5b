"""Where conversations are kept: tracker stores (and, with the server, lock stores)."""
