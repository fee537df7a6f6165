"""Poland: KSeF 2.0 — FA(3) documents, checks, authentication, sessions and incoming sync."""
