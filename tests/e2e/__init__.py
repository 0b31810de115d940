"""End-to-end tests that run a real Airflow (scheduler, dag-processor, triggerer, api-server) as processes."""
