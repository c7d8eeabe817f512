"""The ownership ledger: an append-only RFC 9162 Merkle log of signed mints and transfers."""
