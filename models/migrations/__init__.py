"""Numbered schema migrations (NNNN_name.py with up(db, migrator)); see models/migrate.py."""
