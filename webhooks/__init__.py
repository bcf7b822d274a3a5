"""The edge: the channels (line, telegram, web, console), admin, the app, cli, composition."""
