"""Standing campaigns against the library: hostile inputs for every reader, check and document command, and
randomized platform faults for the senders. ``python -m campaign`` (``make campaign``) runs them in full and prints
their figures; ``tests/test_campaign.py`` runs a small fixed-seed slice of each in ``make test``.
"""
