"""Operators of the Phrase TMS provider: connector download, job creation, and both in one task."""
