"""Romania: RO e-Factura (ANAF SPV) — CIUS-RO documents, checks, OAuth and the e-Factura client."""
