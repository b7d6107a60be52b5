"""The deployment files, checked statically (what installs here does the checking):

* every YAML file with yamllint (deploy/.yamllint.yaml);
* the Dockerfile, the Terraform, the compose and GitOps files and the chart's values
  with checkov (from ``.venv-tools``, which ``make test`` installs; missing → skipped on a
  laptop, failed in CI);
* the Terraform with ``terraform fmt -check`` where terraform is installed, and parsed
  with python-hcl2 for what the plan requires (HA Cloud SQL with backups on a private IP,
  HA Memorystore, a private GKE with Workload Identity, Secret Manager, Artifact Registry);
* the chart's values against its values.schema.json, and ``helm lint`` / ``helm template``
  (its output validated against the Kubernetes schemas and by checkov) where helm is
  installed; the image built where a container engine runs. Each skip says why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import pytest
import yaml

from saldo import registry
from saldo.gateway.config import GatewayConfig

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "saldo"
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_yaml_files_pass_yamllint() -> None:
    # From deploy/: the configuration's ignore patterns are relative to where it runs.
    done = subprocess.run([sys.executable, "-m", "yamllint", "-c", ".yamllint.yaml",
                           "-f", "parsable", "."], capture_output=True, text=True,
                          check=False, cwd=DEPLOY)
    assert done.returncode == 0, done.stdout + done.stderr


def _checkov(*args: str) -> dict[str, Any]:
    if not CHECKOV.exists():
        if IN_CI:
            pytest.fail("checkov is not installed in .venv-tools (make test installs it)")
        pytest.skip("checkov is not installed: run `make .venv-tools/.installed`")
    done = subprocess.run([str(CHECKOV), "--skip-download", "--quiet", "-o", "json", *args],
                          capture_output=True, text=True, check=False, timeout=600,
                          env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    reports = json.loads(done.stdout or "[]")
    if isinstance(reports, dict):
        reports = [reports]
    return {r.get("check_type", "?"): r for r in reports if isinstance(r, dict)}


@pytest.mark.slow
def test_checkov_finds_nothing() -> None:
    reports = _checkov("-d", str(DEPLOY), "--framework", "dockerfile", "terraform",
                       "secrets", "kubernetes")
    assert {"dockerfile", "terraform"} <= set(reports), reports.keys()
    failed = {kind: [(c["check_id"], c.get("resource"), c.get("file_path"))
                     for c in report["results"]["failed_checks"]]
              for kind, report in reports.items() if report.get("results")}
    assert all(not checks for checks in failed.values()), failed
    # The Dockerfile and the Terraform were really checked, not skipped wholesale.
    assert reports["dockerfile"]["summary"]["passed"] > 20
    assert reports["terraform"]["summary"]["passed"] > 50
    # Every suppressed check says why, in the file, beside the resource.
    text = "".join(p.read_text() for p in (DEPLOY / "terraform").glob("*.tf"))
    skips = re.findall(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):(.*)", text)
    assert reports["terraform"]["summary"]["skipped"] == len(skips)
    assert all(len(reason.strip()) > 20 for _, reason in skips)


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2
    final = stages[-1]
    assert final.startswith("python:3.11-slim")
    assert re.search(r"^USER 10001:10001$", final, re.M)
    assert "HEALTHCHECK" in final
    assert "COPY --from=build /opt/saldo /opt/saldo" in final
    # No build tools in the final image: nothing installed there but the built venv.
    assert not re.search(r"apt-get|pip install|gcc|build-essential", final)
    assert "requirements/lock.txt" in stages[0]  # exact versions


def test_the_image_builds_where_a_container_engine_runs() -> None:
    engine = next((e for e in ("docker", "podman") if shutil.which(e)), None)
    if engine is None:
        pytest.skip("no container engine (docker, podman) is installed")
    if subprocess.run([engine, "info"], capture_output=True, check=False).returncode != 0:
        pytest.skip(f"{engine} is installed but its daemon is not running")
    done = subprocess.run([engine, "build", "-f", str(DEPLOY / "Dockerfile"), "-t",
                           "saldo:test", str(ROOT)], capture_output=True, text=True,
                          check=False, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]


# ---------------------------------------------------------------- compose


def test_compose_runs_every_part_of_the_installation() -> None:
    compose = _yaml(DEPLOY / "compose.yaml")
    services = compose["services"]
    assert {"postgres", "redis", "nats", "migrate", "identity", "ledger", "gateway", "worker",
            "relay"} <= set(services)
    assert "--jetstream" in services["nats"]["command"]
    for name in ("identity", "ledger", "gateway", "worker", "relay"):
        assert services[name]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
    assert services["relay"]["command"] == ["relay"]
    assert services["worker"]["command"] == ["worker"]
    # Secrets come from the environment, never written in the file.
    env = services["identity"]["environment"]
    assert env["SALDO_SECRET_KEY"].startswith("${SALDO_SECRET_KEY:?")


def test_gateway_configurations_are_valid() -> None:
    GatewayConfig.model_validate(_yaml(DEPLOY / "gateway.yaml"))
    GatewayConfig.model_validate(_yaml(CHART / "values.yaml")["gateway"]["config"])


# ---------------------------------------------------------------- Helm


def test_chart_values_match_their_schema_and_serve_every_context() -> None:
    chart = _yaml(CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2"
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = _yaml(CHART / "values.yaml")
    jsonschema.validate(values, schema)
    jsonschema.validate({**values, **_merge(values, _yaml(DEPLOY / "gitops" /
                                                          "values-prod.yaml"))}, schema)
    served = {c for s in values["services"] for c in s["contexts"].split(",")}
    with_routes = {c.name for c in registry.CONTEXTS if c.build is not None}
    assert with_routes <= served, f"no Deployment serves {with_routes - served}"
    templates = {p.name: p.read_text() for p in (CHART / "templates").iterdir()}
    # What the issue asks of the chart, present in its templates:
    joined = "\n".join(templates.values())
    for needle in ("path: /health", "path: /health/ready", "kind: HorizontalPodAutoscaler",
                   "kind: PodDisruptionBudget", "kind: NetworkPolicy", "secretKeyRef",
                   "helm.sh/hook: pre-install,pre-upgrade", "readOnlyRootFilesystem: true",
                   "runAsNonRoot: true", "resources:"):
        assert needle in joined, needle
    for name, text in templates.items():  # every template action is closed
        assert "{{" not in re.sub(r"\{\{.*?\}\}", "", text), name


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        result[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(
            base.get(key), dict) else value
    return result


def test_helm_lints_and_renders_valid_manifests() -> None:
    helm = shutil.which("helm")
    if helm is None:
        pytest.skip("helm is not installed (it is not on PyPI, npm or Debian): the chart's "
                    "values and templates are checked statically above")
    done = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([helm, "template", "saldo", str(CHART)], capture_output=True,
                          text=True, check=True)
    import kubernetes_validate

    documents = [d for d in yaml.safe_load_all(done.stdout) if d]
    for document in documents:
        kubernetes_validate.validate(document, "1.30", strict=True)
    kinds = [d["kind"] for d in documents]
    assert kinds.count("Deployment") == len(_yaml(CHART / "values.yaml")["services"]) + 3


# ---------------------------------------------------------------- Terraform


def _plain(value: Any) -> Any:
    """python-hcl2 (8.x) keeps string literals' quotes and marks blocks: drop both."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _terraform() -> dict[str, Any]:
    merged: dict[str, Any] = {"resource": {}}
    for path in sorted((DEPLOY / "terraform").glob("*.tf")):
        with path.open() as f:
            parsed = _plain(hcl2.load(f))
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    merged["resource"].setdefault(kind, {})[name] = body
    return merged


def _one(value: Any) -> Any:
    """python-hcl2 gives nested blocks as lists of one."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def test_terraform_is_formatted() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed (not on PyPI, npm or Debian); the files "
                    "are parsed and checked with python-hcl2 and checkov instead")
    done = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff",
                           str(DEPLOY / "terraform")], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout


def test_terraform_declares_what_the_plan_requires() -> None:
    resources = _terraform()["resource"]
    sql = _one(resources["google_sql_database_instance"]["saldo"]["settings"])
    assert sql["availability_type"] == "REGIONAL"
    backups = _one(sql["backup_configuration"])
    assert backups["enabled"] is True
    assert backups["point_in_time_recovery_enabled"] is True
    network = _one(sql["ip_configuration"])
    assert network["ipv4_enabled"] is False
    assert "private_network" in network
    redis = resources["google_redis_instance"]["saldo"]
    assert redis["tier"] == "STANDARD_HA"
    assert redis["auth_enabled"] is True
    gke = resources["google_container_cluster"]["saldo"]
    assert _one(gke["private_cluster_config"])["enable_private_nodes"] is True
    assert "workload_identity_config" in gke
    assert "google_secret_manager_secret" in resources
    # Secret values never go through Terraform (they would sit in its state).
    assert "google_secret_manager_secret_version" not in resources
    registry_repo = resources["google_artifact_registry_repository"]["saldo"]
    assert registry_repo["format"] == "DOCKER"
    assert "reports_replica" in resources["google_sql_database_instance"]


# ---------------------------------------------------------------- GitOps


def test_argo_cd_application_deploys_the_chart_automatically() -> None:
    app = _yaml(DEPLOY / "gitops" / "argocd-application.yaml")
    assert app["apiVersion"] == "argoproj.io/v1alpha1"
    assert app["kind"] == "Application"
    source = app["spec"]["source"]
    assert source["path"] == "deploy/helm/saldo"
    assert (CHART / source["helm"]["valueFiles"][0]).resolve() == \
        (DEPLOY / "gitops" / "values-prod.yaml").resolve()
    sync = app["spec"]["syncPolicy"]["automated"]
    assert sync == {"prune": True, "selfHeal": True}
