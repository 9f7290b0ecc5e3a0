"""``kizuna user add``, ``kizuna org add`` and ``kizuna init --org`` refuse a name the node's
rule refuses: exit status 2, the rule's sentence on stderr, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kizuna.cli import main
from kizuna.node import Node
from tests.node.test_names import BAD


def kizuna(*args: str | Path, code: int = 0) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("names") / "n"
    kizuna("init", d, "--name", "n", "--org", "CERT", "--country", "FRA")
    return d


def _accounts(d: Path) -> tuple[str, str]:
    return kizuna("user", "list", d).stdout, kizuna("org", "list", d).stdout


@pytest.mark.parametrize(("name", "said"), [b for b in BAD if "\ud800" not in b[0]])
def test_a_bad_name_exits_2_and_stores_nothing(d: Path, name: str, said: str) -> None:
    before = _accounts(d)
    user = kizuna("user", "add", d, name, "--org", "CERT", code=2)
    assert "Invalid value for 'USERNAME'" in user.stderr and said in user.stderr
    assert "a user" in user.stderr and not user.stdout  # no token printed
    org = kizuna("org", "add", d, name, "--country", "DEU", code=2)
    assert "Invalid value for 'NAME'" in org.stderr and said in org.stderr
    assert "an organization" in org.stderr and not org.stdout
    assert _accounts(d) == before


def test_a_colon_in_a_user_name_is_refused_with_why(d: Path) -> None:
    refused = kizuna("user", "add", d, "ai:ko", "--org", "CERT", code=2)
    assert "HTTP Basic authentication separates the user name from the token" in refused.stderr
    assert "ai:ko" not in kizuna("user", "list", d).stdout


def test_a_good_name_still_works(d: Path) -> None:
    token = kizuna("user", "add", d, "J. Smith 新人", "--org", "CERT").stdout.strip()
    kizuna("org", "add", d, "CERT: Lyon", "--country", "FRA")
    assert "J. Smith 新人\tCERT\tuser\tenabled" in kizuna("user", "list", d).stdout
    assert "CERT: Lyon\tFRA" in kizuna("org", "list", d).stdout
    node = Node.open(d)
    try:
        principal = node.authenticate(token, "J. Smith 新人")
        assert principal is not None and principal.name == "J. Smith 新人"
    finally:
        node.close()


def test_init_refuses_a_bad_organization_name_before_making_anything(tmp_path: Path) -> None:
    refused = kizuna("init", tmp_path / "m", "--name", "m", "--org", " CERT", "--country", "FRA",
                     code=2)
    assert "Invalid value for '--org'" in refused.stderr and "begins with a space" in refused.stderr
    assert not (tmp_path / "m").exists()


def _settings(d: Path) -> tuple[str, str, str]:
    return (kizuna("peer", "list", d).stdout, kizuna("community", "list", d).stdout,
            kizuna("org", "list", d).stdout)


@pytest.mark.parametrize(("name", "said"), [b for b in BAD if "\ud800" not in b[0]])
def test_a_bad_peer_or_community_name_exits_2_and_stores_nothing(
    d: Path, name: str, said: str
) -> None:
    before = _settings(d)
    peer = kizuna("peer", "add", d, name, "https://peer.example", "--org", "CERT",
                  "--token", "t", code=2)
    assert "Invalid value for 'NAME'" in peer.stderr and said in peer.stderr
    assert "a peer" in peer.stderr
    community = kizuna("community", "set", d, name, "FRA", code=2)
    assert "Invalid value for 'NAME'" in community.stderr and said in community.stderr
    assert "a community" in community.stderr
    declared = kizuna("org", "add", d, "DECLARES", "--country", "DEU", "--community", name,
                      code=2)
    assert "Invalid value for '--community'" in declared.stderr and said in declared.stderr
    assert _settings(d) == before


def test_a_community_rel_to_cannot_name_exits_2(d: Path, tmp_path: Path) -> None:
    before = _settings(d)
    refused = kizuna("community", "set", d, "Five Eyes", "GBR", code=2)
    assert "REL TO markings name it by its code" in refused.stderr
    assert "is a country code" in kizuna("community", "set", d, "usa", "FRA", code=2).stderr
    assert _settings(d) == before
    kizuna("community", "set", d, "nordefco", "DNK", "FIN")
    assert "NORDEFCO\tDNK FIN" in kizuna("community", "list", d).stdout
    made = kizuna("init", tmp_path / "m", "--name", "m", "--org", "CERT", "--country", "FRA",
                  "--community", "Five Eyes", code=2)
    assert "Invalid value for '--community'" in made.stderr and not (tmp_path / "m").exists()
