"""Expert profiles, their skills, availability and conflicts, and the skill taxonomy."""
