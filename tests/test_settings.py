import pytest

from expert_match.settings import Settings, SettingsError


def test_defaults_use_sqlite_under_var():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///var/expert_match.sqlite3"
    assert settings.is_sqlite
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_overrides_are_typed():
    settings = Settings.from_env({"EXPERT_MATCH_DATABASE_URL": "postgresql://u@h/db", "EXPERT_MATCH_PORT": "9000",
                                  "EXPERT_MATCH_DEBUG": "yes", "UNRELATED": "x"})
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.port == 9000
    assert settings.debug is True
    assert not settings.is_sqlite


@pytest.mark.parametrize(("name", "value"), [("EXPERT_MATCH_PORT", "eighty"), ("EXPERT_MATCH_DEBUG", "maybe")])
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().port = 1  # type: ignore[misc]
