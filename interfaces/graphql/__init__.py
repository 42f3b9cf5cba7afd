"""GraphQL read side (strawberry): schema in schema.py, mounted at /graphql by router.mount()."""
