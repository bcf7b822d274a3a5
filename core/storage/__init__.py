"""Storage: the database (engine, tables, migrations), encryption, document photos and links."""
