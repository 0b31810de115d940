"""The Phrase view in the Airflow UI, an Airflow plugin: see :mod:`airflow_phrase.ui.plugin`."""
