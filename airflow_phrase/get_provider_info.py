"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Connection form fields are declared here, the Airflow 3.2+ way (``conn-fields`` and
``ui-field-behaviour``), instead of through the deprecated hook classmethods.

The dropdowns list only real choices: a ``null`` in a field's ``enum`` would be offered as a literal
"null" option. Port stays visible: on Airflow 3.3.1-3.3.2 the connection list's **Test** button sends
``port: 0`` for a connection without a port, and the API then refuses to reuse the stored password
("The host or port to test differs from the stored connection", HTTP 400; apache/airflow#73298). A
stored port (443 for Phrase's data centres) makes the button work.
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
        "schema": {
            "type": "string",
            "enum": ["eu", "us"],
            "default": "eu",
            "values_display": {"eu": "EU (cloud.memsource.com)", "us": "US (us.cloud.memsource.com)"},
        },
    },
    "auth_type": {
        "label": "Authentication",
        "description": "'login': user name + password (login v3, token cached and renewed); "
        "'api_token': a Phrase TMS API token sent as 'ApiToken'; "
        "'bearer': an OAuth 2 or Phrase Platform access token sent as 'Bearer'. "
        "Put the password or token in the Password field.",
        "schema": {
            "type": "string",
            "enum": ["login", "api_token", "bearer"],
            "default": "login",
            "values_display": {
                "login": "User name + password",
                "api_token": "API token",
                "bearer": "Bearer token (OAuth 2 / Phrase Platform)",
            },
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
    "login_cache": {
        "label": "Login token cache",
        "description": "login auth: 'disk' shares one encrypted login token among the processes of a "
        "machine (one login, not one per task); 'process' logs in once per process.",
        "schema": {
            "type": "string",
            "enum": ["disk", "process"],
            "default": "disk",
            "values_display": {"disk": "Shared on this machine (encrypted file)", "process": "Per process"},
        },
    },
    "login_cache_dir": {
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
        "description": "Phrase TMS (formerly Memsource): turn connector files into translation jobs, wait "
        "for them to be completed and deliver the translations.",
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
                    "airflow_phrase.operators.export",
                    "airflow_phrase.operators.target_file",
                ],
            },
        ],
        "sensors": [
            {
                "integration-name": "Phrase TMS",
                "python-modules": [
                    "airflow_phrase.sensors.connector_task",
                    "airflow_phrase.sensors.job_status",
                ],
            },
        ],
        "triggers": [
            {
                "integration-name": "Phrase TMS",
                "python-modules": [
                    "airflow_phrase.triggers.connector_task",
                    "airflow_phrase.triggers.async_request",
                    "airflow_phrase.triggers.jobs_import",
                    "airflow_phrase.triggers.job_status",
                ],
            },
        ],
        "connection-types": [
            {
                "connection-type": "phrase_tms",
                "hook-class-name": "airflow_phrase.hooks.phrase_tms.PhraseTmsHook",
                "hook-name": "Phrase TMS",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema"],
                    "relabeling": {
                        "host": "Base URL (optional)",
                        "port": "Port (443)",
                        "login": "User name (login auth)",
                        "password": "Password or API token",
                    },
                    "placeholders": {
                        "host": "leave empty for the data centre, or e.g. http://127.0.0.1:8080/web",
                        "port": "443, or the Base URL's port (the Test button needs it)",
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
