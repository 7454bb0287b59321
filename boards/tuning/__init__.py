"""Measured patches of third-party internals (see README "Layout")."""
