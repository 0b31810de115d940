"""Deferrable triggers of the Phrase TMS provider (run in the Airflow triggerer's event loop)."""
