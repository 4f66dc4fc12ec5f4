"""The sandbox as a process: restart with a state directory, scenario files."""

import datetime
import json
from pathlib import Path

import yaml
from refclient import AbnClient, IngClient
from sandbox import running_sandbox

SETUP_EXAMPLE = str(Path(__file__).resolve().parents[2] / "setup" / "bank_sandbox" / "example_scenario.json")


def test_tokens_survive_a_restart_with_state_dir(tmp_path):
    with running_sandbox(state_dir=tmp_path / "state") as sb:
        abn = AbnClient(sb)
        tokens = abn.consent()
    with running_sandbox(state_dir=tmp_path / "state") as sb:
        abn = AbnClient(sb)
        assert abn.get("/v1/consentinfo", tokens["access_token"]).status_code == 200
        refreshed = abn.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        assert refreshed.status_code == 200
    state_file = tmp_path / "state" / "state.json"
    assert state_file.stat().st_mode & 0o077 == 0  # holds live tokens: owner only


def test_example_scenario_file_and_yaml_scenario(tmp_path):
    with running_sandbox(scenario_file=SETUP_EXAMPLE) as sb:
        ing = IngClient(sb)
        tokens = ing.consent()
        account = sb.accounts("ing")[0]
        assert account["holder"] == "Demo Installatietechniek B.V."
        today = datetime.date.fromisoformat(sb.info()["today"])
        since = (today - datetime.timedelta(days=5)).isoformat()
        body = ing.get(f"/v3/accounts/{account['resourceId']}/transactions?dateFrom={since}&limit=100",
                       tokens["access_token"]).json()
    scenario = json.loads(open(SETUP_EXAMPLE).read())
    scenario["abnamro"]["api_key"] = "from-yaml"
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    with running_sandbox(scenario_file=path) as sb:
        assert sb.abnamro_api_key == "from-yaml"
    paid = [t for t in body["transactions"]["booked"] if t["transactionId"] == "DEMO-INV-2026-017"]
    assert paid and paid[0]["transactionAmount"]["amount"] == 1250.0
