"""docker-compose.yml: valid Compose, and shaped the way the project runs in production.

No Docker engine runs here, so the file is checked, not started: against the Compose
specification's JSON schema (vendored in tests/support, see compose-spec.NOTICE), and
against the project's own rules. `docker compose config` is used too where the
compose plugin is installed (it needs no engine), and skipped cleanly where not.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from standards import visibility

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "tests" / "support" / "compose-spec.json"
NAMESPACE_SCRIPT = ROOT / "deploy" / "temporal" / "create-namespace.sh"

# Services that run once and exit: they have no health to check.
ONE_SHOT_JOBS = {"temporal-schema", "temporal-namespace", "pledge-migrate"}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PWD|TOKEN|SECRET|KEYS?$|DATABASE_URL")
# A value that takes its secret from the environment and refuses to start without it.
REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]+\}$")
# A value that contains no literal at all: only an environment reference (maybe empty).
ONLY_VARIABLES = re.compile(r"^(?:[^$]*\$\{[A-Z0-9_]+(?::[-?][^}]*)?\}[^$]*)+$")
PINNED_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)?([-.][\w.-]+)?$")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"{list(error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(compose())
    ]
    assert errors == []


def test_the_schema_check_catches_a_malformed_service() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    broken = compose()
    broken["services"]["worker"]["depends_on"] = {"temporal": {"condition": "whenever"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft7Validator)


def test_every_long_running_service_has_a_healthcheck() -> None:
    missing = [
        name
        for name, service in services().items()
        if name not in ONE_SHOT_JOBS and "test" not in service.get("healthcheck", {})
    ]
    assert missing == []


def test_every_image_is_pinned_to_a_version() -> None:
    unpinned = []
    for name, service in services().items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        if not repository or "/" in tag:
            unpinned.append(f"{name}: {image} (no tag)")
        elif not PINNED_TAG.match(tag):
            unpinned.append(f"{name}: {image}")
    assert unpinned == []


def test_every_dependency_waits_for_a_condition() -> None:
    loose = []
    for name, service in services().items():
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, list):
            loose.append(f"{name}: {depends_on} (a list has no conditions)")
            continue
        for other, rule in depends_on.items():
            if "condition" not in rule:
                loose.append(f"{name} -> {other}")
    assert loose == []


def test_dependencies_wait_for_health_or_for_a_job_to_finish() -> None:
    every = services()
    wrong = []
    for name, service in every.items():
        for other, rule in service.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully" if other in ONE_SHOT_JOBS else "service_healthy"
            )
            if rule["condition"] != wanted:
                wrong.append(f"{name} -> {other}: {rule['condition']}, not {wanted}")
    assert wrong == []


def test_no_secret_is_written_into_the_file() -> None:
    literal = []
    for name, service in services().items():
        for key, value in environment_of(service).items():
            if SECRET_NAME.search(key) and value and not ONLY_VARIABLES.match(value):
                literal.append(f"{name}: {key}")
    assert literal == []


def test_the_secrets_the_stack_cannot_run_without_are_required_from_the_environment() -> None:
    every = services()
    worker = environment_of(every["worker"])
    assert REQUIRED_VARIABLE.match(worker["PLEDGE_PAYLOAD_KEYS"])
    assert REQUIRED_VARIABLE.match(environment_of(every["codec-server"])["PLEDGE_CODEC_TOKEN"])
    assert REQUIRED_VARIABLE.match(environment_of(every["postgres"])["POSTGRES_PASSWORD"])
    assert ":?" in worker["DATABASE_URL"]


def test_the_temporal_server_waits_for_its_schema_job_and_runs_version_1_30() -> None:
    every = services()
    temporal = every["temporal"]
    assert temporal["image"].startswith("temporalio/server:1.30.")
    assert temporal["depends_on"]["temporal-schema"] == {
        "condition": "service_completed_successfully"
    }
    schema_job = every["temporal-schema"]
    assert schema_job["image"].startswith("temporalio/admin-tools:")
    assert environment_of(schema_job)["DB"] == "postgres12"
    assert all("auto-setup" not in service["image"] for service in every.values())


def test_the_application_image_is_built_at_the_project_version_with_no_source_mounted() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name in ("worker", "web", "codec-server", "pledge-migrate"):
        service = services()[name]
        assert "build" in service, name
        assert service["image"] == f"pledge-monitor:{version}"
        mounts = [str(volume) for volume in service.get("volumes", [])]
        assert mounts == [], f"{name} mounts {mounts}"


def test_the_namespace_job_registers_exactly_the_workflow_search_attributes() -> None:
    script = NAMESPACE_SCRIPT.read_text()
    block = script.split("<<'ATTRIBUTES'\n", 1)[1].split("ATTRIBUTES", 1)[0]
    registered = dict(line.split() for line in block.strip().splitlines())
    expected = {key.name: key._metadata_type for key in visibility.ALL}
    assert registered == expected


def test_the_dockerfile_builds_a_wheel_and_runs_as_a_user_with_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert len(stages) >= 2
    assert all(PINNED_TAG.match(image.rpartition(":")[2]) for image in stages)
    assert "--wheel" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, flags=re.MULTILINE)
    assert re.search(r"^HEALTHCHECK ", dockerfile, flags=re.MULTILINE)
    assert not re.search(r"^(COPY|ADD) \. ", dockerfile, flags=re.MULTILINE)


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _docker_compose_available(), reason="the docker compose plugin is absent")
def test_docker_compose_itself_accepts_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / "test.env"
    names = re.findall(r"^([A-Z0-9_]+)=", (ROOT / "deploy" / "env.example").read_text(), re.M)
    env_file.write_text("".join(f"{name}=placeholder\n" for name in names))
    result = subprocess.run(
        [
            "docker",
            "compose",
            "--env-file",
            str(env_file),
            "-f",
            str(COMPOSE_FILE),
            "config",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_every_file_mounted_into_a_container_is_in_the_repository() -> None:
    missing = []
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("./") and not (ROOT / source).exists():
                missing.append(f"{name}: {source}")
    assert missing == []


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_the_deployment_scripts_are_valid_shell() -> None:
    scripts = sorted((ROOT / "deploy").rglob("*.sh"))
    assert len(scripts) == 3
    for script in scripts:
        checked = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{script.name}: {checked.stderr}"
