"""``python -m airflow_phrase.demo``: run the example ingestion DAG against the Phrase TMS emulator.

Importing this package imports nothing of Airflow (the demo must set ``AIRFLOW_HOME`` first).
"""
