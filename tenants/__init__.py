"""Multi-tenancy: the association tree, the tenant context and the mechanisms that enforce it."""
