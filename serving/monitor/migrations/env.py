"""Alembic's environment for the monitor's database: the connection comes from serving/monitor/database.py
(`Config.attributes["connection"]`), so the URL is read in one place, CLAIMSTANCE_DATABASE_URL."""

from alembic import context

from serving.monitor.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,  # SQLite too: the whole upgrade commits at once or not at all (database.upgrade)
)
with context.begin_transaction():
    context.run_migrations()
