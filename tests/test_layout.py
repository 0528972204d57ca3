"""Import arrows point one way (STYLE.md): app -> api|web|cli -> http -> tickets -> experts|orgs -> db,
and matching/ is a pure library that imports nothing of ours and no database or web framework."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "expert_match"

# For each layer, the expert_match modules it must never import.
FORBIDDEN = {
    "matching": {"*"},
    "db": {"privacy", "http", "orgs", "auth", "experts", "tickets", "api", "web", "app", "cli", "fixtures"},
    "orgs": {"privacy", "http", "auth", "experts", "tickets", "api", "web", "app", "cli", "fixtures"},
    "auth": {"privacy", "http", "experts", "tickets", "api", "web", "app", "cli", "fixtures"},
    "notify": {"privacy", "http", "experts", "tickets", "api", "web", "app", "cli", "fixtures", "auth"},
    "experts": {"privacy", "http", "tickets", "api", "web", "app", "cli", "fixtures"},
    "tickets": {"privacy", "api", "web", "http", "app", "cli", "fixtures"},
    "http": {"api", "web", "app", "cli", "fixtures"},
    "privacy": {"api", "web", "http", "app", "cli", "fixtures"},
    "api": {"web", "app", "cli", "fixtures"},
    "web": {"api", "app", "cli", "fixtures"},
    "evaluation": {"privacy", "http", "db", "orgs", "auth", "experts", "tickets", "api", "web", "app", "cli"},
    # The load test reaches the service only over HTTP; it seeds through services and repositories.
    "loadtest": {"privacy", "http", "api", "web", "app", "cli"},
}
# evaluation/ may read the demo data files (expert_match.fixtures), never its database loader.
FORBIDDEN_MODULES = {"evaluation": {"expert_match.fixtures.loader"}}
THIRD_PARTY_FORBIDDEN_IN_MATCHING = {"sqlalchemy", "litestar", "alembic", "psycopg", "msgspec", "uvicorn"}
SQL_ALLOWED = {"repository.py", "engine.py", "paging.py", "flush.py", "migrate.py", "base.py", "models.py", "backup.py",
               "maintenance.py", "prepared.py", "planning.py"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def test_layers_exist():
    for layer in ["db", "migrations", "orgs", "experts", "matching", "tickets", "api", "web", "fixtures"]:
        assert (PACKAGE / layer / "__init__.py").exists(), layer
    for module in ["app.py", "settings.py", "errors.py", "timeutil.py", "cli.py"]:
        assert (PACKAGE / module).exists(), module


def test_import_arrows_point_one_way():
    violations = []
    for layer, forbidden in FORBIDDEN.items():
        for path in modules(layer):
            for name in imports_of(path):
                if not name.startswith("expert_match."):
                    continue
                target = name.split(".")[1]
                if target == layer:
                    continue
                if "*" in forbidden and target != "matching" or target in forbidden:
                    violations.append(f"{path.relative_to(PACKAGE)} imports {name}")
                if name in FORBIDDEN_MODULES.get(layer, ()):
                    violations.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert violations == []


def test_matching_imports_no_database_or_web_library():
    offenders = [
        f"{path.name}: {name}"
        for path in modules("matching")
        for name in imports_of(path)
        if name.split(".")[0] in THIRD_PARTY_FORBIDDEN_IN_MATCHING
    ]
    assert offenders == []


def test_sql_lives_in_repositories_and_db_plumbing():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name in SQL_ALLOWED or "migrations" in path.parts:
            continue
        for name in imports_of(path):
            if name == "sqlalchemy" or name.startswith("sqlalchemy.") and name not in {
                "sqlalchemy.orm", "sqlalchemy.exc", "sqlalchemy.orm.exc", "sqlalchemy.engine"
            }:
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []
