"""Every configured address is exactly one mailbox; anything else is a config error naming
the key (issue 12: hostile config)."""

from __future__ import annotations

import pytest
from execreport import ConfigError
from execreport.config import check_address, load_config, split_addresses
from minidata import cli, write_config

GOOD = [
    "cfo@example.com",
    "Audit <audit@example.com>",
    '"Doe, Jane" <jane@example.com>',
    "José Núñez <jose@example.com>",
    "first.last+tag@sub.example.co",
]

BAD = [
    ("cfo@example.com, evil@attacker.example", "is two addresses"),
    ("a <a@example.com> b@attacker.example", "is two addresses"),
    ("A <a@example.com>, b@attacker.example", "is two addresses"),
    ("a@example.com;b@attacker.example", "is two addresses"),
    ("a;b", "is two addresses"),
    ("cfo@example.com\r\nBcc: evil@attacker.example", "control character"),
    ("cfo@exa\nmple.com", "control character"),
    ("Name\r <cfo@example.com>", "control character"),
    ("a..b@example.com", "'..'"),
    (".a@example.com", "dot"),
    ("a.@example.com", "dot"),
    ("a@", "empty domain"),
    ("a@example", "domain"),
    ("a@-example.com", "domain"),
    ("audit", "not a valid email address"),
    ("exec@@example.com", "not a valid email address"),
    ("Name <>", "not a valid email address"),
    ("", "empty"),
]


@pytest.mark.parametrize("address", GOOD)
def test_one_mailbox_with_or_without_a_display_name_is_accepted(address):
    assert check_address(address) == address


@pytest.mark.parametrize(("address", "why"), BAD)
def test_anything_but_one_mailbox_is_refused(address, why):
    with pytest.raises(ValueError) as info:
        check_address(address)
    assert why in str(info.value)


def test_a_comma_in_a_quoted_display_name_does_not_split_an_env_list():
    assert split_addresses('a@example.com, "Doe, Jane" <j@example.com>,,') == [
        "a@example.com",
        '"Doe, Jane" <j@example.com>',
    ]


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('\n[roles.cfo]\nto = ["cfo@example.com, evil@attacker.example"]\n', "roles.cfo.to[0]"),
        ('\n[roles.cfo]\nto = "cfo@example.com, evil@attacker.example"\n', "roles.cfo.to[0]"),
    ],
)
def test_two_addresses_in_one_role_recipient_name_the_key(tmp_path, extra, key):
    cfg = write_config(tmp_path, extra)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert f"{key}: 'cfo@example.com, evil@attacker.example' is two addresses" in str(info.value)


@pytest.mark.parametrize("key", ["to", "bcc", "notify"])
def test_two_addresses_in_a_delivery_list_item_name_its_index(tmp_path, key):
    cfg = write_config(tmp_path)
    text = cfg.read_text().replace('bcc = ["audit@example.com"]', "")
    cfg.write_text(
        text.replace(
            "[delivery]\n",
            f'[delivery]\n{key} = ["ok@example.com", "a@example.com, b@example.com"]\n',
        ).replace(
            'to = ["exec@example.com"]\n', "" if key == "to" else 'to = ["exec@example.com"]\n'
        )
    )
    with pytest.raises(ConfigError, match=rf"delivery\.{key}\[1\]: .* is two addresses; give one"):
        load_config(cfg)


def test_from_with_a_header_injection_is_refused(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace(
            'from = "reports@example.com"', 'from = "reports@example.com\\r\\nBcc: evil@x.example"'
        )
    )
    with pytest.raises(ConfigError, match=r"delivery\.from: .*control character"):
        load_config(cfg)


def test_environment_overrides_are_parsed_and_blamed_on_their_variable(tmp_path, monkeypatch):
    cfg = write_config(tmp_path)
    monkeypatch.setenv(
        "EXECREPORT_DELIVERY__BCC", 'audit@example.com, "Audit, Inc" <a@example.com>'
    )
    assert load_config(cfg).delivery.bcc == ["audit@example.com", '"Audit, Inc" <a@example.com>']
    monkeypatch.setenv("EXECREPORT_DELIVERY__BCC", "audit@example.com, a..b@example.com")
    with pytest.raises(ConfigError, match=r"EXECREPORT_DELIVERY__BCC \(delivery\.bcc\[1\]\)"):
        load_config(cfg)
    monkeypatch.delenv("EXECREPORT_DELIVERY__BCC")
    monkeypatch.setenv("SES_SENDER_EMAIL", "reports@example.com, evil@attacker.example")
    with pytest.raises(ConfigError, match=r"SES_SENDER_EMAIL \(delivery\.from\): .*two addresses"):
        load_config(cfg)


def test_check_refuses_two_addresses_in_one_item_with_exit_2_and_one_line(tmp_path):
    cfg = write_config(tmp_path, '\n[roles.cfo]\nto = ["cfo@example.com, evil@attacker.example"]\n')
    result = cli("check", "--config", str(cfg))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "roles.cfo.to[0]" in lines[0] and "two addresses" in lines[0]
    assert not (tmp_path / "outbox").exists()
