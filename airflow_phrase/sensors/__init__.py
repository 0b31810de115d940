"""Sensors of the Phrase TMS provider."""
