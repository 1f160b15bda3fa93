"""Writes to the backlog: items (``items``) and their order (``ordering``)."""
