"""Reading project files: YAML with positions, `${VAR}` substitution, file discovery."""
