"""The README's promises: two quick-start commands, a complete configuration table, a true layout."""

import re

from expert_match.settings import documented_variables


def readme(repo_root):
    return (repo_root / "README.md").read_text("utf-8")


def section(text, title):
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_quick_start_has_exactly_two_commands_that_exist(repo_root):
    quick = section(readme(repo_root), "Quick start")
    block = re.search(r"```bash\n(.*?)```", quick, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert commands == ["./scripts/run", "./scripts/test"]
    for command in commands:
        assert (repo_root / command).stat().st_mode & 0o111, command
    assert "./scripts/test" in (repo_root / ".ci" / "run").read_text("utf-8")


def test_configuration_table_lists_every_setting_with_its_default(repo_root):
    table = section(readme(repo_root), "Configuration")
    for variable, default in documented_variables():
        row = next((line for line in table.splitlines() if line.startswith(f"| `{variable}`")), None)
        assert row is not None, variable
        assert f"`{default}`" in row, (variable, row)


def test_layout_section_names_every_package(repo_root):
    layout = section(readme(repo_root), "Layout")
    package = repo_root / "src" / "expert_match"
    for path in sorted(package.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists():
            assert f"  {path.name}/" in layout, path.name
        elif path.suffix == ".py" and path.name != "__init__.py":
            assert f"  {path.name}" in layout, path.name
