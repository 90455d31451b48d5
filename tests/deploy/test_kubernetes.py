"""The Kubernetes manifests validate against the Kubernetes schemas and fit together.

``kubernetes-validate`` ships the API schemas (no cluster, no network); strict mode
rejects unknown fields. Checked against the oldest and newest versions we support.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.settings import DEFAULT_SHUTDOWN_TIMEOUT_S
from tests.deploy.conftest import DEPLOY, documented_variables

K8S = DEPLOY / "kubernetes"
VERSIONS = ("1.30.0", "1.37.0")


def manifests() -> list[Path]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [K8S / name for name in kustomization["resources"]]


def resource(kind: str) -> dict[str, Any]:
    for path in manifests():
        doc: dict[str, Any] = yaml.safe_load(path.read_text())
        if doc["kind"] == kind:
            return doc
    raise KeyError(kind)


def test_kustomization_lists_every_manifest_in_the_folder() -> None:
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert {p.name for p in manifests()} == on_disk


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_manifest_validates_against_the_kubernetes_schema(path: Path, version: str) -> None:
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_rejects_a_broken_statefulset() -> None:
    broken = copy.deepcopy(resource("StatefulSet"))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)
    unknown = copy.deepcopy(resource("StatefulSet"))
    unknown["spec"]["template"]["spec"]["containers"][0]["healthcheck"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown, VERSIONS[-1], strict=True)


def container() -> dict[str, Any]:
    found: dict[str, Any] = resource("StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    return found


def test_each_pod_serves_the_shard_of_its_ordinal_and_replicas_match_the_shard_count() -> None:
    env = {e["name"]: e["value"] for e in container()["env"]}
    assert env["SHARD_IDS"] == "ordinal"
    config = resource("ConfigMap")["data"]
    assert int(config["SHARD_COUNT"]) == resource("StatefulSet")["spec"]["replicas"]


def test_probes_use_the_health_endpoints_on_the_configured_port() -> None:
    c = container()
    port = next(p for p in c["ports"] if p["name"] == "http-metrics")
    assert str(port["containerPort"]) == resource("ConfigMap")["data"]["METRICS_PORT"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}


def test_every_shard_pod_is_created_whether_or_not_the_others_are_ready() -> None:
    # Readiness includes the database: with OrderedReady, a database outage would keep
    # Kubernetes from creating (or re-creating) every pod after the first one not ready.
    assert resource("StatefulSet")["spec"]["podManagementPolicy"] == "Parallel"


def test_kubernetes_waits_longer_than_the_bots_own_shutdown_bound() -> None:
    grace = resource("StatefulSet")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    timeout = float(resource("ConfigMap")["data"]["SHUTDOWN_TIMEOUT"])
    assert grace > timeout >= DEFAULT_SHUTDOWN_TIMEOUT_S


def test_tokens_are_in_the_secret_and_settings_in_the_config_map_all_documented() -> None:
    secret = resource("Secret")["stringData"]
    config = resource("ConfigMap")["data"]
    assert {"DISCORD_TOKEN", "PINCH_API_TOKEN", "DATABASE_URL"} <= set(secret)
    assert not {"DISCORD_TOKEN", "PINCH_API_TOKEN"} & set(config)
    assert set(secret) | set(config) <= documented_variables()
    refs = {next(iter(r.values()))["name"] for r in container()["envFrom"]}
    assert refs == {resource("Secret")["metadata"]["name"],
                    resource("ConfigMap")["metadata"]["name"]}


def test_cpu_request_covers_a_dozen_speakers_at_the_benchmarked_cost() -> None:
    # bench_engine: ~1.3 ms of CPU per active speaker per 20 ms frame.
    per_speaker_cores = 1.3 / 20
    requests = container()["resources"]["requests"]
    cpu = float(requests["cpu"].removesuffix("m")) / (1000 if requests["cpu"].endswith("m")
                                                      else 1)
    assert cpu / per_speaker_cores >= 12
    assert "memory" in requests
    assert "memory" in container()["resources"]["limits"]


def test_the_disruption_budget_selects_the_bot_pods_and_keeps_all_but_one_shard_up() -> None:
    pdb = resource("PodDisruptionBudget")["spec"]
    labels = resource("StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"]["matchLabels"].items() <= labels.items()


def test_the_pod_runs_unprivileged_with_a_read_only_root() -> None:
    pod = resource("StatefulSet")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    sc = container()["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
