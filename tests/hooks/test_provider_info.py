"""The hook as Airflow's ProvidersManager and connection form see it."""

from __future__ import annotations

from importlib import import_module

import pytest

from airflow_phrase.get_provider_info import CONNECTION_FIELDS, get_provider_info
from airflow_phrase.hooks.connection import AuthType


def test_registered_hook_class_is_importable_with_matching_attributes() -> None:
    [connection_type] = get_provider_info()["connection-types"]
    module_name, _, class_name = connection_type["hook-class-name"].rpartition(".")
    hook_class = getattr(import_module(module_name), class_name)
    assert hook_class.conn_type == connection_type["connection-type"] == "phrase_tms"
    assert hook_class.hook_name == connection_type["hook-name"] == "Phrase TMS"
    assert hook_class.conn_name_attr == "phrase_conn_id"
    assert hook_class.default_conn_name == "phrase_tms_default"
    # Airflow builds the hook for the test button as hook_class(**{conn_name_attr: conn_id}), without I/O.
    hook = hook_class(**{hook_class.conn_name_attr: "some_conn"})
    assert hook.phrase_conn_id == "some_conn"


def test_hook_module_listed_under_hooks() -> None:
    [entry] = get_provider_info()["hooks"]
    assert entry["python-modules"] == ["airflow_phrase.hooks.phrase_tms"]
    import_module(entry["python-modules"][0])


def test_form_enums_match_what_the_hook_accepts() -> None:
    from airflow_phrase.hooks.connection import DATA_CENTER_URLS

    assert CONNECTION_FIELDS["auth_type"]["schema"]["enum"] == [member.value for member in AuthType]
    assert CONNECTION_FIELDS["data_center"]["schema"]["enum"] == list(DATA_CENTER_URLS)


@pytest.mark.parametrize(
    "field", [name for name, spec in CONNECTION_FIELDS.items() if "enum" in spec["schema"]]
)
def test_dropdowns_offer_no_null_choice(field: str) -> None:
    """Airflow's form renders every ``enum`` value as an option: ``None`` became a literal "null" one."""
    schema = CONNECTION_FIELDS[field]["schema"]
    assert None not in schema["enum"] and schema["type"] == "string"
    assert schema["default"] in schema["enum"]
    assert set(schema["values_display"]) == set(schema["enum"])


def test_the_dropdowns_are_the_enum_fields() -> None:
    assert {name for name, spec in CONNECTION_FIELDS.items() if "enum" in spec["schema"]} == {
        "data_center",
        "auth_type",
        "login_cache",
    }


@pytest.mark.parametrize("field", sorted(CONNECTION_FIELDS))
def test_no_extra_field_is_masked_as_a_secret(field: str) -> None:
    """Airflow masks the value of every extra whose name contains a sensitive word (``token``,
    ``secret``...): a setting named so shows as ``***`` in the form, and its error messages say ``'***'``."""
    from airflow.sdk._shared.secrets_masker.secrets_masker import should_hide_value_for_key

    assert not should_hide_value_for_key(field)


def test_every_trigger_module_is_registered() -> None:
    """``airflow providers triggers`` lists what the provider info names: every module with a trigger."""
    import importlib
    import inspect
    import pkgutil

    from airflow.triggers.base import BaseTrigger

    import airflow_phrase.triggers as package

    [entry] = get_provider_info()["triggers"]
    modules = set()
    for info in pkgutil.iter_modules(package.__path__, "airflow_phrase.triggers."):
        module = importlib.import_module(info.name)
        if any(
            inspect.isclass(value)
            and value.__module__ == info.name
            and issubclass(value, BaseTrigger)
            and name.startswith("Phrase")
            for name, value in vars(module).items()
        ):
            modules.add(info.name)
    assert set(entry["python-modules"]) == modules
    assert {"airflow_phrase.triggers.jobs_import", "airflow_phrase.triggers.job_status"} <= modules


def test_port_is_shown_so_the_test_button_can_reuse_the_stored_password() -> None:
    """Airflow 3.3.1-3.3.2's Test button sends ``port: 0`` for a connection without a port and the API then
    refuses to reuse the stored password (HTTP 400). The form must let users store the port."""
    [connection_type] = get_provider_info()["connection-types"]
    behaviour = connection_type["ui-field-behaviour"]
    assert "port" not in behaviour["hidden-fields"]
    assert "443" in behaviour["placeholders"]["port"]


def test_importing_the_hook_does_not_import_the_emulator() -> None:
    import subprocess
    import sys

    code = (
        "import sys, airflow_phrase.hooks.phrase_tms; "
        "print(any(m.startswith('airflow_phrase.emulator') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False"
