"""Turning inputs into units of work and running them."""
