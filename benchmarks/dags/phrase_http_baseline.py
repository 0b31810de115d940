"""
### Baseline for `make bench`: Phrase connector ingestion hand-written with HttpOperator + HttpSensor

What a user would write without this provider (apache-airflow-providers-http only), to compare API calls
and worker slots with `phrase_connector_ingestion` in `benchmarks/bench_ingestion_economy.py`. It is
deliberately plain, and not an example to follow:

1. **find_folder** lists the connector's root and keeps the encoded name of the folder `params.folder`
   (a top-level folder); **list_files** lists that folder once, which gives every file's encoded name.
2. Per file (dynamic task mapping): **start_download** (`POST .../folders/{folder}/files/{file}`),
   **wait_download** (`HttpSensor`, poke mode, on `connectorAsyncTasks`), **create_jobs**
   (`POST .../jobs/connectorTask?downloadTaskId=`), **wait_import** (`HttpSensor` on `/async/{id}`).

It keeps no record of what it ingested: a second run over the same files creates every job again, and
its sensors hold a worker slot for as long as Phrase works. The connection `phrase_http` (type `http`)
carries the `Authorization: ApiToken …` header in its extra (the emulator's public demo token in the
benchmark); the poke interval comes from `PHRASE_BENCH_POLL_INTERVAL` (seconds).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.sdk import DAG, Param

DAG_ID = "phrase_http_baseline"
CONN_ID = "phrase_http"
POLL_INTERVAL = float(os.environ.get("PHRASE_BENCH_POLL_INTERVAL", "10"))
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def pick_folder(response: Any, params: dict[str, Any]) -> str:
    """The encoded name of the top-level folder ``params.folder``."""
    for entry in response.json()["files"]:
        if entry["directory"] and entry["name"] == params["folder"]:
            return str(entry["encodedName"])
    raise ValueError(f"no folder {params['folder']!r} at the connector's root")


def files_of(response: Any, params: dict[str, Any]) -> list[dict[str, str]]:
    """Every file of the listed folder: its name and its download endpoint (from the encoded names)."""
    listing = response.json()
    folder = f"api2/v2/connectors/{params['connector']}/folders/{listing['encodedCurrentFolder']}"
    return [
        {"name": entry["name"], "endpoint": f"{folder}/files/{entry['encodedName']}"}
        for entry in listing["files"]
        if not entry["directory"]
    ]


def started(response: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The download task, with what the next tasks send (mapped tasks see only their upstream's XCom)."""
    body = response.json()
    project = params["project_uid"]
    return {
        "id": str(body["id"]),
        "poll_params": {"projectUid": project, "dateCreatedFrom": body["dateCreated"], "pageSize": 1000},
        "create_endpoint": f"api2/v1/projects/{project}/jobs/connectorTask?downloadTaskId={body['id']}",
    }


def download_finished(response: Any, ti: Any) -> bool:
    start = ti.xcom_pull(task_ids="start_download", map_indexes=ti.map_index)
    for task in response.json()["content"]:
        if str(task["id"]) == start["id"]:
            if task["status"] in ("ERROR", "CONVERTER_ERROR"):
                raise ValueError(f"download {start['id']} failed: {task.get('errorMessage')}")
            return bool(task["status"] == "SUCCESS")
    return False


def async_request(response: Any) -> str:
    return str(response.json()["asyncRequest"]["id"])


def import_finished(response: Any) -> bool:
    finished = response.json().get("asyncResponse")
    if finished and finished.get("errorCode"):
        raise ValueError(f"import failed: {finished['errorCode']}")
    return finished is not None


with DAG(
    dag_id=DAG_ID,
    description="Benchmark baseline: connector files -> Phrase jobs with HttpOperator + HttpSensor",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "connector": Param("1001", type="string"),
        "folder": Param("bench", type="string"),
        "project_uid": Param("prjWebsite000000000001", type="string"),
        "target_langs": Param(["de", "fr_fr", "ja"], type="array"),
    },
    default_args={"retries": 0, "http_conn_id": CONN_ID},
    tags=["phrase", "benchmark"],
    doc_md=__doc__,
):
    find_folder = HttpOperator(
        task_id="find_folder",
        method="GET",
        endpoint="api2/v1/connectors/{{ params.connector }}/folders",
        response_filter=pick_folder,
    )
    list_files = HttpOperator(
        task_id="list_files",
        method="GET",
        endpoint="api2/v1/connectors/{{ params.connector }}/folders/{{ ti.xcom_pull('find_folder') }}",
        response_filter=files_of,
    )
    start_download = HttpOperator.partial(
        task_id="start_download",
        method="POST",
        data=json.dumps({}),
        headers=JSON_HEADERS,
        response_filter=started,
    ).expand(endpoint=list_files.output.map(lambda file: file["endpoint"]))
    wait_download = HttpSensor.partial(
        task_id="wait_download",
        endpoint="api2/v1/connectorAsyncTasks",
        response_check=download_finished,
        mode="poke",
        poke_interval=POLL_INTERVAL,
        timeout=timedelta(hours=1).total_seconds(),
    ).expand(request_params=start_download.output.map(lambda start: start["poll_params"]))
    create_jobs = HttpOperator.partial(
        task_id="create_jobs",
        method="POST",
        data="{{ {'targetLangs': params.target_langs} | tojson }}",
        headers=JSON_HEADERS,
        response_filter=async_request,
    ).expand(endpoint=start_download.output.map(lambda start: start["create_endpoint"]))
    wait_import = HttpSensor.partial(
        task_id="wait_import",
        response_check=import_finished,
        mode="poke",
        poke_interval=POLL_INTERVAL,
        timeout=timedelta(hours=1).total_seconds(),
    ).expand(endpoint=create_jobs.output.map(lambda request_id: f"api2/v1/async/{request_id}"))

    find_folder >> list_files
    start_download >> wait_download >> create_jobs >> wait_import
