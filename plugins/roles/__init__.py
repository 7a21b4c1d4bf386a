"""The five built-in roles, one file each."""
