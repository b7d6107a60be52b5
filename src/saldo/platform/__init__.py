"""Technical pieces every context stands on: settings, database, embedded PostgreSQL,
migrations, event store, projection runner, HTTP plumbing, logging and metrics."""
