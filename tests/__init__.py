"""Library and end-to-end tests (pytest); the Odoo tier runner is odoo_tier.py."""
