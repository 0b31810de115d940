"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Connection form fields are declared here, the Airflow 3.2+ way (``conn-fields`` and
``ui-field-behaviour``), instead of through the deprecated hook classmethods.
"""

from __future__ import annotations

from typing import Any

from airflow_phrase import __version__

#: Keys of ``Connection.extra`` the hook understands, with their form definition.
CONNECTION_FIELDS: dict[str, dict[str, Any]] = {
    "data_center": {
        "label": "Data centre",
        "description": "Phrase TMS data centre: 'eu' (cloud.memsource.com) or 'us' (us.cloud.memsource.com). "
        "Ignored when Base URL is set.",
        "schema": {"type": ["string", "null"], "enum": ["eu", "us", None], "default": "eu"},
    },
    "auth_type": {
        "label": "Authentication",
        "description": "'login': user name + password (login v3, token cached and renewed); "
        "'api_token': a Phrase TMS API token sent as 'ApiToken'; "
        "'bearer': an OAuth 2 or Phrase Platform access token sent as 'Bearer'. "
        "Put the password or token in the Password field.",
        "schema": {
            "type": ["string", "null"],
            "enum": ["login", "api_token", "bearer", None],
            "default": "login",
        },
    },
    "contact": {
        "label": "Contact for User-Agent",
        "description": "E-mail or URL that Phrase asks clients to put in their User-Agent.",
        "schema": {"type": ["string", "null"]},
    },
    "max_attempts": {
        "label": "Max attempts per request",
        "description": "Attempts for a transient or ambiguous failure (429, 503, 5xx, connection errors; "
        "the create-job POST repeats only transient ones).",
        "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 50, "default": 6},
    },
    "max_wait_seconds": {
        "label": "Max backoff (seconds)",
        "description": "Upper bound of one backoff wait between attempts.",
        "schema": {"type": ["number", "null"], "minimum": 0, "default": 60},
    },
    "retry_total_seconds": {
        "label": "Retry budget (seconds)",
        "description": "Give up retrying a request once this much time has passed since its first attempt.",
        "schema": {"type": ["number", "null"], "minimum": 0, "default": 300},
    },
    "request_timeout_seconds": {
        "label": "Request timeout (seconds)",
        "description": "Connect + read timeout of one HTTP request.",
        "schema": {"type": ["number", "null"], "minimum": 1, "default": 60},
    },
    "token_cache": {
        "label": "Login token cache",
        "description": "login auth: 'disk' shares one encrypted login token among the processes of a "
        "machine (one login, not one per task); 'process' logs in once per process.",
        "schema": {"type": ["string", "null"], "enum": ["disk", "process", None], "default": "disk"},
    },
    "token_cache_dir": {
        "label": "Login token cache directory",
        "description": "Absolute directory of the 'disk' token cache (created 0700). "
        "Default: $AIRFLOW_HOME/phrase_tms/token_cache.",
        "schema": {"type": ["string", "null"]},
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-phrase-tms",
        "name": "Phrase TMS",
        "description": "Phrase TMS (formerly Memsource): turn connector files into translation jobs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Phrase TMS",
                "external-doc-url": "https://developers.phrase.com/en/api/tms/latest/introduction",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "Phrase TMS", "python-modules": ["airflow_phrase.hooks.phrase_tms"]},
        ],
        "operators": [
            {
                "integration-name": "Phrase TMS",
                "python-modules": [
                    "airflow_phrase.operators.download",
                    "airflow_phrase.operators.create_job",
                    "airflow_phrase.operators.ingest",
                ],
            },
        ],
        "sensors": [
            {"integration-name": "Phrase TMS", "python-modules": ["airflow_phrase.sensors.connector_task"]},
        ],
        "triggers": [
            {
                "integration-name": "Phrase TMS",
                "python-modules": [
                    "airflow_phrase.triggers.connector_task",
                    "airflow_phrase.triggers.async_request",
                ],
            },
        ],
        "connection-types": [
            {
                "connection-type": "phrase_tms",
                "hook-class-name": "airflow_phrase.hooks.phrase_tms.PhraseTmsHook",
                "hook-name": "Phrase TMS",
                "ui-field-behaviour": {
                    "hidden-fields": ["port", "schema"],
                    "relabeling": {
                        "host": "Base URL (optional)",
                        "login": "User name (login auth)",
                        "password": "Password or API token",
                    },
                    "placeholders": {
                        "host": "leave empty for the data centre, or e.g. http://127.0.0.1:8080/web",
                        "login": "only for Authentication = login",
                    },
                },
                "conn-fields": CONNECTION_FIELDS,
            }
        ],
        "config": {
            "phrase_tms": {
                "description": "Settings of the Phrase TMS provider.",
                "options": {
                    "min_poll_interval": {
                        "description": "Floor, in seconds, of every poll interval: the operators' "
                        "poll_interval, the sensor's poke_interval, the triggers' and the example DAGs' "
                        "settings. A shorter interval is refused. Each poll is a call to Phrase, which "
                        "allows 6,000 per minute per organisation; lower it only against the emulator.",
                        "version_added": None,
                        "type": "float",
                        "example": "5.0",
                        "default": "1.0",
                    }
                },
            }
        },
        "extra-links": [
            "airflow_phrase.links.PhraseProjectLink",
            "airflow_phrase.links.PhraseJobsLink",
        ],
    }
