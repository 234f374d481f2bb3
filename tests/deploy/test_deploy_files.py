"""The worked examples in deploy/ stay consistent with the settings the server reads.

Docker and systemd don't run here; what can go stale is checked instead: every
``TRACKSIDE_*`` name is a real setting, every node has its own name and data, the balancer
upgrades WebSockets without sticky sessions, and deploy/README.md lists what the nodes are given.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from trackside.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTINGS = {f"TRACKSIDE_{name.upper()}" for name in Settings.model_fields}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def _nodes() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _compose()["services"].items()
        if service.get("image", "").startswith("trackside")
    }


def _env_file(name: str) -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value
    return pairs


def test_compose_runs_three_distinct_nodes_on_postgres_and_redis() -> None:
    nodes = _nodes()
    assert len(nodes) == 3
    names = {service["environment"]["TRACKSIDE_NODE_ID"] for service in nodes.values()}
    assert len(names) == 3
    volumes = {service["volumes"][0].split(":")[0] for service in nodes.values()}
    assert len(volumes) == 3  # a data dir per node
    for service in nodes.values():
        env = service["environment"]
        assert env["TRACKSIDE_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["TRACKSIDE_REDIS_URL"].startswith("redis://")
        assert env["TRACKSIDE_TELEMETRY_URL"].startswith("influxdb://")
        assert {k for k in env if k.startswith("TRACKSIDE_")} <= SETTINGS
    services = _compose()["services"]
    assert {"postgres", "redis", "influxdb", "nginx"} <= set(services)
    # Only the first node migrates on a fresh database; the others wait for it.
    waiting = [n for n, s in nodes.items() if set(s["depends_on"]) & set(nodes)]
    assert len(waiting) == 2


def test_nginx_balances_every_node_and_upgrades_websockets() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    upstream = re.search(r"upstream trackside \{(.*?)\}", conf, re.S)
    assert upstream is not None
    servers = set(re.findall(r"server ([\w.-]+):8000", upstream.group(1)))
    assert servers == set(_nodes())
    assert not re.search(r"^\s*(ip_hash|hash|sticky)\b", conf, re.M)  # no sticky sessions
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Host $host;" in conf
    nginx = _compose()["services"]["nginx"]
    address = nginx["networks"]["backend"]["ipv4_address"]
    for service in _nodes().values():
        assert service["environment"]["FORWARDED_ALLOW_IPS"] == address


def test_systemd_unit_gives_each_instance_its_port_name_and_data_dir() -> None:
    unit = (DEPLOY / "trackside@.service").read_text()
    environment = dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in unit.splitlines()
        if line.startswith("Environment=")
    )
    assert environment["TRACKSIDE_PORT"] == "%i"
    assert "%i" in environment["TRACKSIDE_NODE_ID"]
    assert "%i" in environment["TRACKSIDE_DATA_DIR"]
    assert set(environment) <= SETTINGS
    assert re.search(r"^ExecStart=\S+/trackside serve$", unit, re.M)
    shared = _env_file("trackside.env.example")
    assert set(shared) <= SETTINGS
    assert not {"TRACKSIDE_PORT", "TRACKSIDE_NODE_ID", "TRACKSIDE_DATA_DIR"} & set(shared)


def test_readme_explains_every_setting_the_nodes_get() -> None:
    readme = (DEPLOY / "README.md").read_text()
    given = set(_env_file("trackside.env.example"))
    for service in _nodes().values():
        given |= set(service["environment"])
    missing = sorted(name for name in given if f"`{name}`" not in readme)
    assert not missing, f"deploy/README.md does not explain {missing}"
