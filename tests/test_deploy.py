"""The deployment files (deploy/): the Helm chart lints and renders to manifests that
Kubernetes's own schemas accept, the Compose file is valid for docker-compose, nginx accepts
its configuration, and every endpoints file they carry is one parlez reads as meant."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from parlez.cli.init import TEMPLATE_ITEMS
from parlez.endpoints import Endpoints
from tests.conftest import REPO, write
from tests.services import missing

CHART = REPO / "deploy" / "helm" / "parlez"
COMPOSE = REPO / "deploy" / "compose"
#: the oldest Kubernetes the chart is for
KUBERNETES = "1.29"


def helm() -> str:
    found = shutil.which("helm", path=str(Path(sys.executable).parent)) or shutil.which("helm")
    if found is None:
        missing("helm (the helm-binary package of the dev extra)")
    assert found is not None
    return found


def render(*values: str) -> list[dict[str, Any]]:
    sets = [arg for value in values for arg in ("--set", value)]
    done = subprocess.run(
        [helm(), "template", "shop", str(CHART), *sets],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [doc for doc in docs if doc["kind"] == kind]
    return found


def test_the_chart_lints_and_renders_manifests_kubernetes_accepts() -> None:
    import kubernetes_validate

    lint = subprocess.run([helm(), "lint", "--strict", str(CHART)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    docs = render()
    assert sorted(doc["kind"] for doc in docs) == [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "PodDisruptionBudget",
        "Secret",
        "Service",
    ]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):  # the schemas do bite
        broken = of_kind(docs, "Deployment")
        broken["spec"]["replica"] = 2
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the replicas' environment holds (their Secret): the endpoints files' ${VAR}s."""
    monkeypatch.setenv("POSTGRES_PASSWORD", "p")
    monkeypatch.setenv("RABBITMQ_PASSWORD", "r")


@pytest.mark.usefixtures("secrets")
def test_the_replicas_are_probed_drained_and_share_one_endpoints_file(tmp_path: Path) -> None:
    docs = render()
    pod = of_kind(docs, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert pod["terminationGracePeriodSeconds"] > 30  # parlez drains for up to 30 s
    assert of_kind(docs, "Service")["spec"]["sessionAffinity"] == "ClientIP"
    job = of_kind(docs, "Job")["spec"]["template"]["spec"]["containers"][0]
    assert job["command"][:3] == ["parlez", "console", "migrate"]
    endpoints = Endpoints.load(
        write(tmp_path / "endpoints.yml", of_kind(docs, "ConfigMap")["data"]["endpoints.yml"])
    )
    assert endpoints.tracker_store is not None and endpoints.lock_store is not None
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.lock_store.type == "redis"


def test_without_autoscaling_the_replicas_are_fixed_and_a_secret_must_be_named() -> None:
    fixed = of_kind(render("autoscaling.enabled=false", "replicas=3"), "Deployment")
    assert fixed["spec"]["replicas"] == 3
    assert "HorizontalPodAutoscaler" not in {d["kind"] for d in render("autoscaling.enabled=false")}
    refused = subprocess.run(
        [helm(), "template", "shop", str(CHART), "--set", "secret.create=false"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "secret.existingSecret is needed" in refused.stderr


def test_the_compose_file_is_valid_and_asks_for_its_secrets() -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        missing("docker-compose")
    assert compose is not None
    secrets = {"POSTGRES_PASSWORD": "p", "RABBITMQ_PASSWORD": "r", "PARLEZ_AUTH_TOKEN": "t"}
    run = [compose, "-f", str(COMPOSE / "docker-compose.yml"), "config"]
    done = subprocess.run(
        run, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **secrets}
    )
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert {"parlez", "nginx", "postgres", "redis", "rabbitmq", "migrate"} <= set(
        config["services"]
    )
    assert config["services"]["parlez"]["deploy"]["replicas"] == 2
    unset = subprocess.run(run, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert unset.returncode != 0 and "set POSTGRES_PASSWORD" in unset.stdout + unset.stderr


@pytest.mark.usefixtures("secrets")
def test_the_compose_endpoints_put_everything_shared_in_one_place() -> None:
    endpoints = Endpoints.load(COMPOSE / "endpoints.yml")
    assert endpoints.tracker_store is not None and endpoints.lock_store is not None
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.lock_store.type == "redis"
    assert endpoints.event_broker is not None and endpoints.event_broker.type == "pika"


def test_nginx_accepts_the_load_balancers_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        missing("nginx")
    assert nginx is not None
    # The replicas' name resolves inside Compose's network only.
    site = (
        (COMPOSE / "nginx.conf").read_text().replace("server parlez:5005", "server 127.0.0.1:5005")
    )
    write(tmp_path / "site.conf", site)
    write(
        tmp_path / "nginx.conf",
        f"""
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log;
        events {{}}
        http {{
            access_log off;
            client_body_temp_path {tmp_path};
            include {tmp_path}/site.conf;
        }}
        """,
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_the_image_carries_every_file_of_the_assistant() -> None:
    copied = " ".join(re.findall(r"^COPY (.+) \./", (REPO / "Dockerfile").read_text(), re.M))
    assert [item for item in TEMPLATE_ITEMS if item not in copied] == []
