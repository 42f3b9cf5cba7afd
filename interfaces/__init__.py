"""Interfaces: REST (FastAPI), GraphQL (strawberry) and the CLI (typer). Thin: parse, call, map."""
