"""PostgreSQL: the engine, the SQLModel tables, their CRUD and the migrations."""
