"""Delivery pages."""
