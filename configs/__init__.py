"""The YAML files that ship with reasongym (envs/*.yaml, runs/*.yaml)."""
