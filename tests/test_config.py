"""Settings: defaults < file < environment < flags, and the samples list every setting."""

import re

import pytest

from protocol import config


def test_precedence_default_file_env_flag(tmp_path):
    path = tmp_path / "edge.toml"
    path.write_text('port = 9100\nnode_name = "from-file"\nlog_level = "debug"\n')
    settings = config.load("edge", {"config": str(path), "log_level": "error"},
                           environ={"BRANCHLINE_NODE_NAME": "from-env"})
    assert settings.port == 9100
    assert settings.node_name == "from-env"
    assert settings.log_level == "error"
    assert settings.token_ttl_hours == 24
    assert config.load("cloud", {}, environ={}).port == 8800


def test_bad_settings_are_refused_clearly(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("colour = 'blue'\n")
    with pytest.raises(config.ConfigError, match="unknown setting 'colour'"):
        config.load("edge", {"config": str(path)}, environ={})
    with pytest.raises(config.ConfigError, match="port must be int"):
        config.load("edge", {}, environ={"BRANCHLINE_PORT": "eighty"})
    with pytest.raises(config.ConfigError, match="redis_url must be redis_address"):
        config.load("cloud", {}, environ={"BRANCHLINE_REDIS_URL": "127.0.0.1:6379"})
    assert config.load("cloud", {}, environ={
        "BRANCHLINE_REDIS_URL": "redis://127.0.0.1:6379/0"}).redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("role", ["edge", "cloud"])
def test_sample_config_documents_every_setting(role):
    text = open("%s/deploy/%s.toml" % (config.__file__.rsplit("/protocol/", 1)[0], role)).read()
    names = set(re.findall(r"^# (\w+) = ", text, re.M))
    assert names == {o.name for o in config.options_for(role)}


@pytest.mark.parametrize("role", ["edge", "cloud"])
def test_help_explains_every_option(role):
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", role, "--help"], capture_output=True,
                         text=True, check=True, cwd=config.__file__.rsplit("/protocol/", 1)[0])
    for option in config.options_for(role):
        assert "--" + option.name.replace("_", "-") in out.stdout
        assert "BRANCHLINE_" + option.name.upper() in out.stdout.replace("\n", "").replace(" ", "")
